package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

const (
	rerankPrefix = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
	rerankSuffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
	instruction  = "Given a query about insurance, retrieve relevant passages that answer the query"
)

// rerankPrompt builds a Qwen3-Reranker prompt (prefix, body, suffix, as
// the model card's Transformers example does).
func rerankPrompt(query, doc string) string {
	return rerankPrefix + "<Instruct>: " + instruction + "\n<Query>: " + query + "\n<Document>: " + doc + rerankSuffix
}

// testOptions is the offline benchmark's configuration (TP 2, max_model_len
// 2048, max_num_seqs 4, APC off, bucketing on, CPU sampling) at zero
// jitter and a high speed.
func testOptions() Options {
	o := DefaultOptions("/models/Qwen3-Reranker-0.6B")
	o.ServedModelNames = []string{"rr"}
	o.TensorParallelSize = 2
	o.MaxModelLen = 2048
	o.MaxNumSeqs = 4
	o.PrefixCaching = false
	o.NumGPUBlocksOverride = 4
	o.Override = map[string]any{"on_device_sampling_config": nil}
	o.Jitter = 0
	o.Speed = 1000
	return o
}

// newTestServer builds a server from testOptions changed by mutate and
// serves it on a loopback httptest server.
func newTestServer(t testing.TB, mutate func(*Options)) (*Server, *httptest.Server) {
	t.Helper()
	o := testOptions()
	if mutate != nil {
		mutate(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

// do sends a request and returns the status and body.
func do(t testing.TB, ts *httptest.Server, method, path, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

func mustJSONBody(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	createdRe = regexp.MustCompile(`"created":\d+`)
	permRe    = regexp.MustCompile(`modelperm-[0-9a-f]{32}`)
	cmplRe    = regexp.MustCompile(`cmpl-[0-9a-f]{32}`)
)

// normalize blanks what legitimately varies between runs (timestamps and
// random ids).
func normalize(s string) string {
	s = createdRe.ReplaceAllString(s, `"created":0`)
	s = permRe.ReplaceAllString(s, "modelperm-X")
	return cmplRe.ReplaceAllString(s, "cmpl-X")
}

// sseEvents splits an SSE body into its data payloads.
func sseEvents(t testing.TB, body string) []string {
	t.Helper()
	var out []string
	for _, ev := range strings.Split(body, "\n\n") {
		if ev == "" {
			continue
		}
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok {
			t.Fatalf("event without data: %q", ev)
		}
		out = append(out, data)
	}
	return out
}

// streamChunk is the shape of a completion stream chunk.
type streamChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int     `json:"index"`
		Text         string  `json:"text"`
		FinishReason *string `json:"finish_reason"`
		Logprobs     *struct {
			TextOffset    []int                `json:"text_offset"`
			TokenLogprobs []float64            `json:"token_logprobs"`
			Tokens        []string             `json:"tokens"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func decodeChunk(t testing.TB, data string) streamChunk {
	t.Helper()
	var c streamChunk
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("chunk %q: %v", data, err)
	}
	return c
}
