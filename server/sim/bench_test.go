package sim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchBody is the request the wrk figure is measured with: one reranker
// prompt, max_tokens 1, logprobs 20, streamed with usage.
const benchBody = `{"model":"rr","prompt":"<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n<Instruct>: Given a query about insurance, retrieve relevant passages that answer the query\n<Query>: does my policy cover flood damage\n<Document>: Standard homeowners policies exclude flood damage; buy flood insurance separately.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n","max_tokens":1,"temperature":0,"logprobs":20,"allowed_token_ids":[9693,2152],"stream":true,"stream_options":{"include_usage":true}}`

func benchServer(b *testing.B) *Server {
	o := DefaultOptions("/models/Qwen3-Reranker-0.6B")
	o.ServedModelNames = []string{"rr"}
	o.MaxModelLen = 2048
	o.MaxNumSeqs = 4
	o.PrefixCaching = false
	o.Override = map[string]any{"on_device_sampling_config": nil}
	o.ZeroLatency = true
	s, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

// BenchmarkCompletionStreamHandler measures the handler alone (no network).
func BenchmarkCompletionStreamHandler(b *testing.B) {
	s := benchServer(b)
	h := s.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(benchBody))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkCompletionStreamLoopback measures the handler behind a real
// loopback HTTP server with keep-alive clients.
func BenchmarkCompletionStreamLoopback(b *testing.B) {
	s := benchServer(b)
	ts := httptest.NewServer(s.Handler())
	b.Cleanup(ts.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(benchBody))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
