package server

import (
	"strings"
	"testing"
)

func TestRedactedArgv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		// A secret flag's value, given as the next word.
		{"separate value", []string{"vllm", "serve", "m", "--api-key", "sk-123", "--port", "8000"},
			[]string{"vllm", "serve", "m", "--api-key", Redacted, "--port", "8000"}},
		// Given inline.
		{"inline value", []string{"vllm", "--hf-token=hf_abc", "--port=8000"},
			[]string{"vllm", "--hf-token=" + Redacted, "--port=8000"}},
		// A secret flag followed by another flag has no value to hide.
		{"no value", []string{"vllm", "--api-key", "--port", "1"}, []string{"vllm", "--api-key", "--port", "1"}},
		// Secret-looking words are not flags: the model path stays.
		{"positional", []string{"vllm", "serve", "/models/token-secret"}, []string{"vllm", "serve", "/models/token-secret"}},
		// Case and underscore variants are caught; a key-file path is not a
		// secret (only whole words count).
		{"variants", []string{"x", "--Some_Password", "p", "--ssl-keyfile", "/k.pem"},
			[]string{"x", "--Some_Password", Redacted, "--ssl-keyfile", "/k.pem"}},
		// "tokens" in a flag name is not a secret: the dry run must show
		// --max-num-batched-tokens as it is.
		{"tokens is no token", []string{"vllm", "--max-num-batched-tokens", "256", "--max-logprobs=20"},
			[]string{"vllm", "--max-num-batched-tokens", "256", "--max-logprobs=20"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := append([]string(nil), tc.in...)
			got := RedactedArgv(tc.in)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("RedactedArgv = %q, want %q", got, tc.want)
			}
			if strings.Join(tc.in, " ") != strings.Join(in, " ") {
				t.Errorf("RedactedArgv changed its input to %q", tc.in)
			}
		})
	}
}

func TestRedactedEnv(t *testing.T) {
	t.Parallel()
	got := RedactedEnv([]string{"VLLM_API_KEY=sk", "NEURON_RT_VISIBLE_CORES=0-1", "HF_TOKEN=hf", "AWS_SECRET_ACCESS_KEY=x", "EMPTY"})
	want := []string{"AWS_SECRET_ACCESS_KEY=" + Redacted, "EMPTY", "HF_TOKEN=" + Redacted, "NEURON_RT_VISIBLE_CORES=0-1", "VLLM_API_KEY=" + Redacted}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("RedactedEnv = %q, want %q (sorted, secrets hidden)", got, want)
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "''"}, // an empty word must survive
		{"/models/Qwen3-0.6B", "/models/Qwen3-0.6B"}, // safe characters stay bare
		{`{"a": 1}`, `'{"a": 1}'`},                   // JSON needs quotes
		{"it's", `'it'\''s'`},                        // an embedded single quote
	}
	for _, tc := range tests {
		if got := ShellQuote(tc.in); got != tc.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	c := Config{
		Env: []string{"NEURON_RT_VISIBLE_CORES=0-1", "VLLM_API_KEY=sk-live"},
		Argv: []string{"vllm", "serve", "/models/Qwen3-Reranker-0.6B", "--port", "8000", "--api-key", "sk-live",
			"--additional-config", `{"override_neuron_config":{"on_device_sampling_config":null}}`},
	}
	want := `NEURON_RT_VISIBLE_CORES=0-1 \
  VLLM_API_KEY='<redacted>' \
  vllm serve /models/Qwen3-Reranker-0.6B \
  --port 8000 \
  --api-key '<redacted>' \
  --additional-config '{"override_neuron_config":{"on_device_sampling_config":null}}'
`
	if got := c.CommandLine(); got != want {
		t.Errorf("CommandLine =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(c.CommandLine(), "sk-live") {
		t.Error("CommandLine leaks the API key")
	}
}

func TestConfig_BaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Config
		want string
	}{
		// The defaults.
		{"zero", Config{}, "http://127.0.0.1:8000"},
		// A server bound to all interfaces is probed on loopback.
		{"all interfaces", Config{Host: "0.0.0.0", Port: 9000}, "http://127.0.0.1:9000"},
		// IPv6 hosts are bracketed.
		{"ipv6", Config{Host: "::1", Port: 8001}, "http://[::1]:8001"},
		// Remote: trailing slashes and an OpenAI-style /v1 are cut.
		{"remote", Config{URL: "http://inf2-host:8000/v1/"}, "http://inf2-host:8000"},
	}
	for _, tc := range tests {
		if got := tc.c.BaseURL(); got != tc.want {
			t.Errorf("%s: BaseURL = %q, want %q", tc.name, got, tc.want)
		}
	}
	if (Config{}).Remote() || !(Config{URL: "http://x"}).Remote() {
		t.Error("Remote() is wrong")
	}
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	c := withDefaults(Config{})
	if c.Host != DefaultHost || c.Port != DefaultPort || c.ReadyTimeout != DefaultReadyTimeout || c.StopGrace != DefaultStopGrace {
		t.Errorf("withDefaults(Config{}) = %+v", c)
	}
}
