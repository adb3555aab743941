package sim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestScratchSmoke(t *testing.T) {
	o := DefaultOptions("/models/Qwen3-Reranker-0.6B")
	o.ServedModelNames = []string{"rr"}
	o.MaxModelLen = 2048
	o.MaxNumSeqs = 4
	o.PrefixCaching = false
	o.Override = map[string]any{"on_device_sampling_config": nil}
	o.Speed = 100
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	body := `{"model":"rr","prompt":["<|im_start|>system\nJudge<|im_end|>\n<|im_start|>user\n<Instruct>: x\n<Query>: what does flood insurance cover\n<Document>: Flood insurance covers damage from flooding.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n","hello world"],"max_tokens":3,"logprobs":3,"stream":true,"stream_options":{"include_usage":true},"temperature":0}`
	resp, err := http.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	t.Logf("%d\n%s", resp.StatusCode, b)
	body2 := strings.Replace(strings.Replace(body, `"stream":true,"stream_options":{"include_usage":true},`, "", 1), `"max_tokens":3`, `"max_tokens":1,"return_tokens_as_token_ids":true`, 1)
	resp, err = http.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(body2))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	t.Logf("%d\n%s", resp.StatusCode, b)
	resp, _ = http.Get(ts.URL + "/metrics")
	b, _ = io.ReadAll(resp.Body)
	t.Logf("%s", b[:1500])
	t.Logf("%+v", s.Stats().Seqs)
}
