package sim

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/testkit"
)

// TestEndpointsGolden checks every endpoint's status and body against
// golden JSON shaped as vLLM's OpenAI-compatible server answers.
func TestEndpointsGolden(t *testing.T) {
	prompt := rerankPrompt("does my policy cover flood damage", "Standard homeowners policies exclude flood damage; buy flood insurance separately.")
	long := strings.Repeat("word ", 2100)
	rows := []struct {
		name       string
		method     string
		path       string
		body       string
		header     []string
		mutate     func(*Options)
		wantStatus int
	}{
		// /health answers 200 with an empty body.
		{name: "health", method: "GET", path: "/health", wantStatus: 200},
		// /ping is /health for SageMaker, GET and POST.
		{name: "ping", method: "POST", path: "/ping", wantStatus: 200},
		// /version is vLLM's plus the simulator's marks.
		{name: "version", method: "GET", path: "/version", wantStatus: 200},
		// /v1/models lists the served name with root and max_model_len.
		{name: "models", method: "GET", path: "/v1/models", wantStatus: 200},
		// /tokenize returns count, max_model_len, tokens, token_strs null.
		{name: "tokenize", method: "POST", path: "/tokenize", body: `{"model":"rr","prompt":"yes\nno"}`, wantStatus: 200},
		// /tokenize with return_token_strs lists the pieces.
		{name: "tokenize_strs", method: "POST", path: "/tokenize", body: `{"prompt":"<|im_start|>system\nHello, world!","return_token_strs":true}`, wantStatus: 200},
		// /tokenize with chat messages applies ChatML.
		{name: "tokenize_messages", method: "POST", path: "/tokenize", body: `{"messages":[{"role":"user","content":"hi"}]}`, wantStatus: 200},
		// /detokenize of the special and fixed ids.
		{name: "detokenize", method: "POST", path: "/detokenize", body: `{"model":"rr","tokens":[151644,8948,198,9693,2152,151645]}`, wantStatus: 200},
		// /detokenize of an id outside the vocabulary is a 400.
		{name: "detokenize_oov", method: "POST", path: "/detokenize", body: `{"tokens":[151669]}`, wantStatus: 400},
		// Non-stream completion with logprobs keyed by decoded strings.
		{name: "completion", method: "POST", path: "/v1/completions", header: []string{"X-Request-Id", "golden-1"},
			body: fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0,"logprobs":5,"allowed_token_ids":[9693,2152]}`, prompt), wantStatus: 200},
		// return_tokens_as_token_ids keys tokens and top_logprobs "token_id:N".
		{name: "completion_token_ids", method: "POST", path: "/v1/completions", header: []string{"X-Request-Id", "golden-2"},
			body: fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0,"logprobs":3,"return_tokens_as_token_ids":true}`, prompt), wantStatus: 200},
		// Streamed list prompt: one chunk per prompt, then usage, then [DONE].
		{name: "completion_stream", method: "POST", path: "/v1/completions", header: []string{"X-Request-Id", "golden-3"},
			body: fmt.Sprintf(`{"model":"rr","prompt":[%q,"hello"],"max_tokens":1,"temperature":0,"logprobs":2,"stream":true,"stream_options":{"include_usage":true}}`, prompt), wantStatus: 200},
		// Under on-device sampling the plugin returns no logprobs and vLLM
		// 0.11 fails a request that asked for them (HTTP 500).
		{name: "completion_ods", method: "POST", path: "/v1/completions", header: []string{"X-Request-Id", "golden-4"},
			mutate: func(o *Options) { o.Override = nil },
			body:   fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0,"logprobs":20}`, prompt), wantStatus: 500},
		// Streamed, the 200 is already sent: an error event, then [DONE].
		{name: "completion_ods_stream", method: "POST", path: "/v1/completions", header: []string{"X-Request-Id", "golden-5"},
			mutate: func(o *Options) { o.Override = nil },
			body:   fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0,"logprobs":20,"stream":true}`, prompt), wantStatus: 200},
		// Without logprobs on-device sampling serves.
		{name: "completion_ods_no_logprobs", method: "POST", path: "/v1/completions", header: []string{"X-Request-Id", "golden-6"},
			mutate: func(o *Options) { o.Override = nil },
			body:   fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0}`, prompt), wantStatus: 200},
		// logprobs above --max-logprobs is vLLM's 400.
		{name: "err_logprobs", method: "POST", path: "/v1/completions", body: `{"model":"rr","prompt":"hi","logprobs":21}`, wantStatus: 400},
		// A prompt longer than max_model_len is vLLM's 400.
		{name: "err_too_long", method: "POST", path: "/v1/completions", body: fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1}`, long), wantStatus: 400},
		// An unknown model is a 404 NotFoundError.
		{name: "err_model", method: "POST", path: "/v1/completions", body: `{"model":"nope","prompt":"hi"}`, wantStatus: 404},
		// echo is refused with a 400.
		{name: "err_echo", method: "POST", path: "/v1/completions", body: `{"model":"rr","prompt":"hi","echo":true}`, wantStatus: 400},
		// stream_options without stream fails pydantic validation.
		{name: "err_stream_options", method: "POST", path: "/v1/completions", body: `{"prompt":"hi","stream_options":{"include_usage":true}}`, wantStatus: 400},
		// A missing prompt fails pydantic validation.
		{name: "err_no_prompt", method: "POST", path: "/v1/completions", body: `{"model":"rr"}`, wantStatus: 400},
		// A prompt of the wrong type fails pydantic validation.
		{name: "err_prompt_type", method: "POST", path: "/v1/completions", body: `{"prompt":{"a":1}}`, wantStatus: 400},
		// Broken JSON is a 400.
		{name: "err_json", method: "POST", path: "/v1/completions", body: `{"prompt":`, wantStatus: 400},
		// --api-key guards /v1 routes with vLLM's 401 body.
		{name: "err_unauthorized", method: "GET", path: "/v1/models", mutate: func(o *Options) { o.APIKey = "k" }, wantStatus: 401},
		// Unknown routes answer FastAPI's 404.
		{name: "err_route", method: "GET", path: "/nope", wantStatus: 404},
		// /reset_prefix_cache exists only in dev mode.
		{name: "err_reset_not_dev", method: "POST", path: "/reset_prefix_cache", wantStatus: 404},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, ts := newTestServer(t, r.mutate)
			status, body := do(t, ts, r.method, r.path, r.body, r.header...)
			if status != r.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, r.wantStatus, body)
			}
			testkit.Golden(t, filepath.Join("testdata", r.name+".golden"), fmt.Appendf(nil, "%d\n%s\n", status, normalize(body)))
		})
	}
}

// TestResetPrefixCacheDevMode checks the dev-mode route empties the cache.
func TestResetPrefixCacheDevMode(t *testing.T) {
	s, ts := newTestServer(t, func(o *Options) {
		o.DevMode = true
		o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 256
		o.Override = map[string]any{"on_device_sampling_config": nil, "is_prefix_caching": true, "is_block_kv_layout": true}
	})
	body := mustJSONBody(t, map[string]any{"prompt": strings.Repeat("alpha beta gamma ", 20), "max_tokens": 1})
	for i := 0; i < 2; i++ {
		if st, b := do(t, ts, "POST", "/v1/completions", body); st != 200 {
			t.Fatalf("completion: %d %s", st, b)
		}
	}
	if hits := s.Stats().CachedTokens; hits == 0 {
		t.Fatalf("second identical prompt hit nothing in the prefix cache")
	}
	if st, _ := do(t, ts, "POST", "/reset_prefix_cache", ""); st != http.StatusOK {
		t.Fatalf("reset_prefix_cache: %d", st)
	}
	before := s.Stats().CachedTokens
	do(t, ts, "POST", "/v1/completions", body)
	if after := s.Stats().CachedTokens; after != before {
		t.Fatalf("after reset the prompt still hit %d tokens", after-before)
	}
}
