package workload

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"loadgen/loadgen/testkit"
)

// qwen3SuffixIDs are the real Qwen3 ids of PromptSuffix; the
// fake tokenizer reproduces them.
var qwen3SuffixIDs = []int{151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271}

func TestTemplate(t *testing.T) {
	if !strings.Contains(PromptSuffix, "<|im_start|>assistant\n") || strings.Contains(PromptSuffix, "assitant") {
		t.Errorf("suffix %q: want the official spelling \"assistant\"", PromptSuffix)
	}
	b, err := NewBuilder(context.Background(), PromptOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, cut := b.Body("What is covered?", "Fire.")
	want := "<Instruct>: Given a query about insurance, retrieve relevant passages that answer the query\n<Query>: What is covered?\n<Document>: Fire."
	if got != want || cut {
		t.Errorf("body %q (cut %v), want %q", got, cut, want)
	}
	// The cut counts characters (code points), not bytes, as Python's
	// len does: 2000 runes of "é" are 4000 bytes.
	got, cut = b.Body("q", strings.Repeat("é", 3000))
	if n := utf8.RuneCountInString(got); n != DefaultMaxChars || !cut || !utf8.ValidString(got) {
		t.Errorf("cut body has %d runes (cut %v), want %d", n, cut, DefaultMaxChars)
	}
	b2, _ := NewBuilder(context.Background(), PromptOptions{MaxChars: -1}, nil)
	if got, cut := b2.Body("q", strings.Repeat("x", 5000)); cut || len(got) < 5000 {
		t.Errorf("MaxChars -1 still cut the body to %d bytes", len(got))
	}
}

// goldenCase is one prompt configuration pinned by testdata/prompts.golden.
type goldenCase struct {
	name string
	opts PromptOptions
	tok  bool // through the fake server's /tokenize
}

var goldenCases = []goldenCase{
	{"tokenize, offline defaults (max_length 1500, 2000 chars)", PromptOptions{}, true},
	{"tokenize, no character cut: the longest documents are cut to 1500 tokens", PromptOptions{MaxChars: -1}, true},
	{"tokenize, max_length 100: every body is truncated", PromptOptions{MaxLength: 100}, true},
	{"chars fallback, max_length 100 (156-character body budget)", PromptOptions{MaxLength: 100, Truncation: TruncationChars}, false},
}

// goldenQueries picks sample rows: query 1's shortest and longest documents
// and one in between.
func goldenQueries() []Query {
	q := SampleQueries()[1]
	byLen := slices.Clone(q.Documents)
	slices.SortFunc(byLen, func(a, b string) int { return len(a) - len(b) })
	q.Documents = []string{byLen[0], byLen[len(byLen)/2], byLen[len(byLen)-1]}
	return []Query{q}
}

func TestPromptsGolden(t *testing.T) {
	ctx := context.Background()
	var out strings.Builder
	for _, gc := range goldenCases {
		srv := newFakeServer(t, 0)
		var tok Tokenizer
		if gc.tok {
			tok = NewServerTokenizer(srv.Client(), srv.URL, "rr")
		}
		b, err := NewBuilder(ctx, gc.opts, tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range goldenQueries() {
			prompts, err := b.Build(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range prompts {
				checkPrompt(t, gc, b, srv.tok, q, i, p)
				fmt.Fprintf(&out, "=== %s | query %d document %d\nmethod=%s tokens=%d truncated=%v char_cut=%v\n",
					gc.name, q.Index, i, b.Method(), p.Tokens, p.Truncated, p.CharCut)
				if p.IDs != nil {
					fmt.Fprintf(&out, "ids=%v\n", p.IDs)
				}
				fmt.Fprintf(&out, "text=%q\n", p.Text)
			}
		}
	}
	testkit.Golden(t, filepath.Join("testdata", "prompts.golden"), []byte(out.String()))
}

// checkPrompt asserts what the golden file shows, independently of it.
func checkPrompt(t *testing.T, gc goldenCase, b *Builder, tok *fakeTokenizer, q Query, i int, p Prompt) {
	t.Helper()
	ctx := context.Background()
	opts, _ := gc.opts.withDefaults()
	if !strings.HasPrefix(p.Text, PromptPrefix) || !strings.HasSuffix(p.Text, PromptSuffix) {
		t.Errorf("%s: document %d: text lacks the template", gc.name, i)
	}
	full := "<Instruct>: " + DefaultInstruction + "\n<Query>: " + q.Text + "\n<Document>: " + q.Documents[i]
	if !gc.tok {
		if p.IDs != nil {
			t.Errorf("%s: the character fallback has ids", gc.name)
		}
		body := strings.TrimSuffix(strings.TrimPrefix(p.Text, PromptPrefix), PromptSuffix)
		if n := utf8.RuneCountInString(body); n > 156 || !strings.HasPrefix(full, body) || p.Truncated != (n < utf8.RuneCountInString(full)) {
			t.Errorf("%s: document %d: body of %d characters, truncated %v; want a prefix of the body of at most 156", gc.name, i, n, p.Truncated)
		}
		return
	}
	prefix, _ := tok.Tokenize(ctx, PromptPrefix)
	if !slices.Equal(p.IDs[:len(prefix)], prefix) || !slices.Equal(p.IDs[len(p.IDs)-len(qwen3SuffixIDs):], qwen3SuffixIDs) {
		t.Errorf("%s: document %d: ids do not start with the prefix and end with the Qwen3 suffix ids", gc.name, i)
	}
	if len(p.IDs) > opts.MaxLength || p.Tokens != len(p.IDs) {
		t.Errorf("%s: document %d: %d ids (Tokens %d), max_length %d", gc.name, i, len(p.IDs), p.Tokens, opts.MaxLength)
	}
	body, _ := b.Body(q.Text, q.Documents[i])
	bodyIDs, _ := tok.Tokenize(ctx, body)
	budget := opts.MaxLength - len(prefix) - len(qwen3SuffixIDs)
	want := slices.Concat(prefix, bodyIDs[:min(budget, len(bodyIDs))], qwen3SuffixIDs)
	if !slices.Equal(p.IDs, want) || p.Truncated != (len(bodyIDs) > budget) {
		t.Errorf("%s: document %d: ids are not prefix + body[:%d] + suffix (truncated %v)", gc.name, i, budget, p.Truncated)
	}
	if text, _ := tok.Detokenize(ctx, p.IDs); text != p.Text {
		t.Errorf("%s: document %d: text does not match the ids", gc.name, i)
	}
}

// TestBuilderServerCalls checks what reaches /tokenize and /detokenize.
func TestBuilderServerCalls(t *testing.T) {
	srv := newFakeServer(t, 0)
	tok := NewServerTokenizer(nil, srv.URL+"/", "qwen3-reranker")
	ctx := context.Background()
	b, err := NewBuilder(ctx, PromptOptions{MaxLength: 100}, tok)
	if err != nil {
		t.Fatal(err)
	}
	q := Query{Text: "q", Documents: []string{"short", strings.Repeat("long words ", 100)}}
	if _, err := b.Build(ctx, q); err != nil {
		t.Fatal(err)
	}
	toks := srv.requests("/tokenize")
	if len(toks) != 4 { // prefix, suffix, two bodies
		t.Fatalf("%d /tokenize calls, want 4", len(toks))
	}
	for _, r := range toks {
		if r.Body["add_special_tokens"] != false || r.Body["model"] != "qwen3-reranker" {
			t.Errorf("/tokenize body %v: want add_special_tokens false and the model", r.Body)
		}
	}
	if got := toks[0].Body["prompt"]; got != PromptPrefix {
		t.Errorf("first /tokenize prompt %q, want the prefix", got)
	}
	if n := len(srv.requests("/detokenize")); n != 1 {
		t.Errorf("%d /detokenize calls, want 1 (the truncated body only)", n)
	}
	if b.Method() != TruncationTokenize || b.Fallback() != "" {
		t.Errorf("method %q fallback %q", b.Method(), b.Fallback())
	}
}

func TestBuilderMethods(t *testing.T) {
	ctx := context.Background()
	noTok := newFakeServer(t, 404)
	broken := newFakeServer(t, 500)
	tests := []struct {
		why      string
		opts     PromptOptions
		tok      Tokenizer
		method   string
		fallback string
		err      string
	}{
		{"auto without a tokenizer falls back", PromptOptions{}, nil, TruncationChars, "no server tokenizer", ""},
		{"auto with a server without /tokenize falls back", PromptOptions{}, NewServerTokenizer(nil, noTok.URL, "m"), TruncationChars, "the server has no /tokenize", ""},
		{"chars never calls the server", PromptOptions{Truncation: TruncationChars}, NewServerTokenizer(nil, broken.URL, "m"), TruncationChars, "", ""},
		{"tokenize needs a tokenizer", PromptOptions{Truncation: TruncationTokenize}, nil, "", "", "truncation tokenize needs the server's tokenizer"},
		{"tokenize fails without /tokenize", PromptOptions{Truncation: TruncationTokenize}, NewServerTokenizer(nil, noTok.URL, "m"), "", "",
			"tokenizing the prompt template: /tokenize: HTTP 404: server has no tokenizer endpoint"},
		{"auto does not hide a broken tokenizer", PromptOptions{}, NewServerTokenizer(nil, broken.URL, "m"), "", "",
			`tokenizing the prompt template: /tokenize: HTTP 500: {"detail":"Not Found"}`},
		{"unknown truncation", PromptOptions{Truncation: "words"}, nil, "", "", `truncation "words": want "auto", "tokenize" or "chars"`},
		{"negative max_length", PromptOptions{MaxLength: -5}, nil, "", "", "max_length -5: must be positive"},
	}
	for _, tt := range tests {
		b, err := NewBuilder(ctx, tt.opts, tt.tok)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.why, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.why, err)
			continue
		}
		if b.Method() != tt.method || b.Fallback() != tt.fallback {
			t.Errorf("%s: method %q fallback %q, want %q %q", tt.why, b.Method(), b.Fallback(), tt.method, tt.fallback)
		}
	}
	if n := len(broken.requests("/tokenize")); n != 1 {
		t.Errorf("the broken server got %d /tokenize calls, want 1 (none under chars)", n)
	}
}

// TestCharsBudget pins the fallback's arithmetic: the prefix (190
// characters) counts ceil(190/4) = 48 tokens, the suffix (52) 13, so
// max_length 100 leaves 39 tokens, 156 characters of body.
func TestCharsBudget(t *testing.T) {
	b, err := NewBuilder(context.Background(), PromptOptions{MaxLength: 100, Truncation: TruncationChars}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.BodyBudget() != 156 {
		t.Errorf("budget %d characters, want 156", b.BodyBudget())
	}
	ps, _ := b.Build(context.Background(), Query{Text: "q", Documents: []string{"d", strings.Repeat("x", 500)}})
	// Short: 190+len(body)+52 characters, body "<Instruct>: …\n<Query>: q\n<Document>: d" of 118.
	if ps[0].Tokens != (190+118+52+3)/4 || ps[0].Truncated {
		t.Errorf("short prompt: %d tokens (truncated %v), want %d", ps[0].Tokens, ps[0].Truncated, (190+118+52+3)/4)
	}
	if ps[1].Tokens != (190+156+52+3)/4 || !ps[1].Truncated {
		t.Errorf("long prompt: %d tokens (truncated %v), want %d", ps[1].Tokens, ps[1].Truncated, (190+156+52+3)/4)
	}
}

// failingTokenizer fails on documents containing "bad".
type failingTokenizer struct{ *fakeTokenizer }

func (f failingTokenizer) Tokenize(ctx context.Context, s string) ([]int, error) {
	if strings.Contains(s, "bad") {
		return nil, errors.New("boom")
	}
	return f.fakeTokenizer.Tokenize(ctx, s)
}

func TestBuildError(t *testing.T) {
	ctx := context.Background()
	b, err := NewBuilder(ctx, PromptOptions{}, failingTokenizer{newFakeTokenizer()})
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]string, 20)
	for i := range docs {
		docs[i] = "fine"
	}
	docs[13] = "bad"
	_, err = b.Build(ctx, Query{Index: 4, Line: 9, Text: "q", Documents: docs})
	if err == nil || err.Error() != "query 4 (line 9), document 13: boom" {
		t.Errorf("got %v", err)
	}
}

func TestProbeTokenizer(t *testing.T) {
	ctx := context.Background()
	srv := newFakeServer(t, 0)
	noTok := newFakeServer(t, 405)
	broken := newFakeServer(t, 503)
	tests := []struct {
		why     string
		tok     Tokenizer
		yes, no int
		ok      bool
		err     string
	}{
		{"ids from the server", NewServerTokenizer(nil, srv.URL, "m"), 9693, 2152, true, ""},
		{"no tokenizer: Qwen3 ids", nil, 9693, 2152, false, ""},
		{"no /tokenize: Qwen3 ids, no error", NewServerTokenizer(nil, noTok.URL, "m"), 9693, 2152, false, ""},
		{"a failing server is an error", NewServerTokenizer(nil, broken.URL, "m"), 9693, 2152, false,
			`probing the id of "yes": /tokenize: HTTP 503: {"detail":"Not Found"}`},
		{"a word split in two is not a yes/no vocabulary", splitTokenizer{}, 9693, 2152, false,
			`the tokenizer splits "yes" into 2 tokens [1 2]: not a yes/no reranker vocabulary; set the ids in the profile`},
	}
	for _, tt := range tests {
		yes, no, ok, err := ProbeTokenizer(ctx, tt.tok)
		if yes != tt.yes || no != tt.no || ok != tt.ok || fmt.Sprint(err) != fmt.Sprint(errString(tt.err)) {
			t.Errorf("%s: got %d %d %v %v", tt.why, yes, no, ok, err)
		}
	}
}

type splitTokenizer struct{}

func (splitTokenizer) Tokenize(context.Context, string) ([]int, error)   { return []int{1, 2}, nil }
func (splitTokenizer) Detokenize(context.Context, []int) (string, error) { return "", nil }

// errString makes "" nil, for comparing errors by message.
func errString(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

func TestServerTokenizerErrors(t *testing.T) {
	srv := newFakeServer(t, 0)
	tok := NewServerTokenizer(srv.Client(), srv.URL, "m")
	if _, err := tok.Detokenize(context.Background(), []int{42}); err == nil || !strings.Contains(err.Error(), "/detokenize: HTTP 400") {
		t.Errorf("unknown id: %v", err)
	}
	ids, err := tok.Tokenize(context.Background(), "yes no")
	if err != nil || !reflect.DeepEqual(ids[:1], []int{9693}) {
		t.Errorf("got %v, %v", ids, err)
	}
}
