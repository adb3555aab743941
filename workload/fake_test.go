package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeTokenizer is a deterministic stand-in for the Qwen3 tokenizer: special
// tokens, "\n"/"\n\n", "yes", "no" and the template's role words get their
// real Qwen3 ids; other pieces (words with their leading space, single
// digits, single other characters) get an FNV hash id. It is reversible, so
// Detokenize(Tokenize(s)) == s.
type fakeTokenizer struct {
	mu    sync.Mutex
	byID  map[int]string
	calls int
}

var fakeSpecial = map[string]int{
	"<|im_start|>": 151644, "<|im_end|>": 151645, "<|endoftext|>": 151643,
	"<think>": 151667, "</think>": 151668, "\n": 198, "\n\n": 271,
	"assistant": 77091, "system": 8948, "user": 872, "yes": Qwen3YesID, "no": Qwen3NoID,
}

var fakePieces = regexp.MustCompile(`<\|[a-z_]+\|>|</?think>|\n+|[ ]?[A-Za-z]+|[ ]?[0-9]|[ ]?[^\sA-Za-z0-9]|\s`)

func newFakeTokenizer() *fakeTokenizer {
	f := &fakeTokenizer{byID: map[int]string{}}
	for s, id := range fakeSpecial {
		f.byID[id] = s
	}
	return f
}

func (f *fakeTokenizer) Tokenize(_ context.Context, text string) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var ids []int
	end := 0
	for _, loc := range fakePieces.FindAllStringIndex(text, -1) {
		if loc[0] != end {
			return nil, fmt.Errorf("fake tokenizer: gap at byte %d", end)
		}
		end = loc[1]
		piece := text[loc[0]:loc[1]]
		id, ok := fakeSpecial[piece]
		if !ok {
			h := fnv.New32a()
			h.Write([]byte(piece))
			id = 1_000_000 + int(h.Sum32())
		}
		if prev, ok := f.byID[id]; ok && prev != piece {
			return nil, fmt.Errorf("fake tokenizer: %q and %q share id %d", prev, piece, id)
		}
		f.byID[id] = piece
		ids = append(ids, id)
	}
	if end != len(text) {
		return nil, fmt.Errorf("fake tokenizer: gap at byte %d", end)
	}
	return ids, nil
}

func (f *fakeTokenizer) Detokenize(_ context.Context, ids []int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, id := range ids {
		s, ok := f.byID[id]
		if !ok {
			return "", fmt.Errorf("fake tokenizer: unknown id %d", id)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// recorded is one request the fake server received.
type recorded struct {
	Path string
	Body map[string]any
}

// fakeServer is a recording vLLM stand-in on loopback: /tokenize and
// /detokenize backed by a fakeTokenizer, and /v1/completions that only
// records. status, when set, is returned by the tokenizer routes instead.
type fakeServer struct {
	*httptest.Server
	tok    *fakeTokenizer
	status int

	mu   sync.Mutex
	reqs []recorded
}

func newFakeServer(t *testing.T, status int) *fakeServer {
	t.Helper()
	s := &fakeServer{tok: newFakeTokenizer(), status: status}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, recorded{Path: r.URL.Path, Body: body})
	s.mu.Unlock()
	if r.URL.Path != "/v1/completions" && s.status != 0 {
		http.Error(w, `{"detail":"Not Found"}`, s.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/tokenize":
		var req tokenizeRequest
		json.Unmarshal(data, &req)
		ids, err := s.tok.Tokenize(r.Context(), req.Prompt)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"count": len(ids), "max_model_len": 2048, "tokens": ids, "token_strs": nil})
	case "/detokenize":
		var req detokenizeRequest
		json.Unmarshal(data, &req)
		text, err := s.tok.Detokenize(r.Context(), req.Tokens)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"prompt": text})
	case "/v1/completions":
		w.Write([]byte(`{}`))
	default:
		http.NotFound(w, r)
	}
}

// requests returns what was received on path.
func (s *fakeServer) requests(path string) []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []recorded
	for _, r := range s.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}
