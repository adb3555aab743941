package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// post sends each request body to the fake server, as the engine does.
func post(t *testing.T, srv *fakeServer, reqs []Request) []recorded {
	t.Helper()
	for _, r := range reqs {
		resp, err := srv.Client().Post(srv.URL+"/v1/completions", "application/json", bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	return srv.requests("/v1/completions")
}

// num is how encoding/json decodes a JSON number into any.
func num(n int) any { return float64(n) }

func TestEncodeRequestsOnTheWire(t *testing.T) {
	srv := newFakeServer(t, 0)
	prompts := make([]Prompt, 20)
	for i := range prompts {
		prompts[i] = Prompt{Text: "p" + string(rune('a'+i)), IDs: []int{151644, 1000 + i}}
	}
	reqs, err := EncodeRequests(prompts, RequestOptions{Model: "qwen3-reranker", BatchSize: 8, TokenIDPrompts: true,
		ExtraBody: map[string]any{"return_tokens_as_token_ids": true, "priority": 3, "vllm_xargs": map[string]any{"k": "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	// ceil(20/8) = 3 requests of 8, 8 and 4 prompts.
	if len(reqs) != 3 || reqs[0].Prompts != 8 || reqs[1].Offset != 8 || reqs[2].Prompts != 4 || reqs[2].Offset != 16 {
		t.Fatalf("fan-out %+v", reqs)
	}
	got := post(t, srv, reqs)
	for i, r := range got {
		b := r.Body
		for key, want := range map[string]any{
			"model": "qwen3-reranker", "max_tokens": num(1), "temperature": num(0), "logprobs": num(20),
			"allowed_token_ids": []any{num(9693), num(2152)}, "stream": true,
			"stream_options":             map[string]any{"include_usage": true},
			"return_tokens_as_token_ids": true, "priority": num(3), "vllm_xargs": map[string]any{"k": "v"},
		} {
			if v, ok := b[key]; !ok || !reflect.DeepEqual(v, want) {
				t.Errorf("request %d: %s = %#v (present %v), want %#v", i, key, v, ok, want)
			}
		}
		prompt, _ := b["prompt"].([]any)
		if len(prompt) != reqs[i].Prompts {
			t.Fatalf("request %d: %d prompts, want %d", i, len(prompt), reqs[i].Prompts)
		}
		first, _ := prompt[0].([]any)
		if !reflect.DeepEqual(first, []any{num(151644), num(1000 + reqs[i].Offset)}) {
			t.Errorf("request %d: first prompt %v, want the ids of prompt %d", i, first, reqs[i].Offset)
		}
	}
}

func TestEncodeRequestsText(t *testing.T) {
	srv := newFakeServer(t, 0)
	reqs, err := EncodeRequests([]Prompt{{Text: "a"}, {Text: "b"}, {Text: "c"}}, RequestOptions{
		YesID: 11, NoID: 12, Logprobs: 5, MaxTokens: 2,
		ExtraBody: map[string]any{"temperature": 0.5, "stream_options": map[string]any{"include_usage": true, "continuous_usage_stats": true}}})
	if err != nil {
		t.Fatal(err)
	}
	// Batch size 0 is 1: one request per document.
	got := post(t, srv, reqs)
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	b := got[2].Body
	if !reflect.DeepEqual(b["prompt"], []any{"c"}) || !reflect.DeepEqual(b["allowed_token_ids"], []any{num(11), num(12)}) ||
		b["logprobs"] != num(5) || b["max_tokens"] != num(2) {
		t.Errorf("body %v", b)
	}
	// extra_body overrides our fields.
	if b["temperature"] != 0.5 || !reflect.DeepEqual(b["stream_options"], map[string]any{"include_usage": true, "continuous_usage_stats": true}) {
		t.Errorf("extra_body did not override: %v", b)
	}
	if _, ok := b["model"]; ok {
		t.Errorf("an empty model is sent: %v", b)
	}
}

func TestEncodeRequestsErrors(t *testing.T) {
	tests := []struct {
		why     string
		prompts []Prompt
		o       RequestOptions
		want    string
	}{
		{"token-id prompts need ids", []Prompt{{Text: "a", IDs: []int{1}}, {Text: "b"}}, RequestOptions{TokenIDPrompts: true},
			"prompt 1 has no token ids: token-id prompts need the tokenize method"},
		{"no prompts", nil, RequestOptions{}, "no prompts to send"},
		{"negative batch", []Prompt{{Text: "a"}}, RequestOptions{BatchSize: -1}, "batch_size -1: must be positive"},
		{"unencodable extra_body", []Prompt{{Text: "a"}}, RequestOptions{ExtraBody: map[string]any{"x": make(chan int)}},
			`extra_body "x": json: unsupported type: chan int`},
	}
	for _, tt := range tests {
		if _, err := EncodeRequests(tt.prompts, tt.o); err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.why, err, tt.want)
		}
	}
}

// TestOpenAIRequestDropsFields documents why the body is our own type:
// go-openai's CompletionRequest omits temperature 0 and cannot carry
// allowed_token_ids.
func TestOpenAIRequestDropsFields(t *testing.T) {
	data, err := json.Marshal(openai.CompletionRequest{Model: "m", Prompt: "p", MaxTokens: 1, Temperature: 0, LogProbs: 20})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "temperature") {
		t.Errorf("go-openai now sends temperature 0: %s", data)
	}
	if _, ok := reflect.TypeOf(openai.CompletionRequest{}).FieldByName("AllowedTokenIDs"); ok {
		t.Error("go-openai gained AllowedTokenIDs")
	}
	ours, _ := EncodeRequests([]Prompt{{Text: "p"}}, RequestOptions{})
	if !bytes.Contains(ours[0].Body, []byte(`"temperature":0`)) {
		t.Errorf("our body lacks temperature 0: %s", ours[0].Body)
	}
}

// TestRerankSourceOnTheWire sends a sample query's items through the fake
// server with the server tokenizer: token-id prompts within max_length.
func TestRerankSourceOnTheWire(t *testing.T) {
	srv := newFakeServer(t, 0)
	ctx := context.Background()
	src, err := NewRerankSource(ctx, RerankOptions{
		Open: func() (Dataset, error) {
			return OpenDataset(sampleDir+"/insurance.jsonl", "", DatasetOptions{SearchNum: 20})
		},
		Prompt:    PromptOptions{MaxChars: -1},
		Request:   RequestOptions{Model: "rr", BatchSize: 8},
		TopN:      6,
		Tokenizer: NewServerTokenizer(srv.Client(), srv.URL, "rr"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	it, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if it.Documents != 20 || it.TopN != 6 || len(it.Requests) != 3 || len(it.Relevant) == 0 {
		t.Fatalf("item %+v", it)
	}
	for _, r := range post(t, srv, it.Requests) {
		for _, p := range r.Body["prompt"].([]any) {
			ids := p.([]any)
			if len(ids) > DefaultMaxLength {
				t.Errorf("a prompt of %d tokens exceeds max_length", len(ids))
			}
			if ids[len(ids)-2] != num(151668) {
				t.Errorf("prompt does not end with the suffix ids")
			}
		}
	}
	if st := src.PromptStats(); st.Truncated == 0 || st.MaxTokens != DefaultMaxLength || st.Prompts != 240 {
		t.Errorf("stats %+v: want truncated prompts at exactly max_length over 240 prompts", st)
	}
}
