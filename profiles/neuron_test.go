package profiles

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"loadgen/loadgen/testkit"
)

// TestRerankArgvEnvGolden pins the exact argv and environment of the four
// configs of rerank.yaml.
func TestRerankArgvEnvGolden(t *testing.T) {
	pl := expand(t, loadShippedForTest(t, "rerank.yaml"))
	type cmd struct {
		Name string   `json:"name"`
		Argv []string `json:"argv"`
		Env  []string `json:"env"`
	}
	var got []cmd
	for _, c := range pl.Configs {
		got = append(got, cmd{c.Name, c.Server.Argv, c.Server.Env})
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, filepath.Join("testdata", "rerank.argv.golden.json"), append(b, '\n'))
}

// flagValue returns the argument after flag, or "" when absent.
func flagValue(argv []string, flag string) string {
	i := slices.Index(argv, flag)
	if i < 0 || i+1 >= len(argv) {
		return ""
	}
	return argv[i+1]
}

// overrides decodes the override_neuron_config of a config's argv.
func overrides(t *testing.T, c Config) map[string]any {
	t.Helper()
	var ac map[string]any
	raw := flagValue(c.Server.Argv, "--additional-config")
	if err := json.Unmarshal([]byte(raw), &ac); err != nil {
		t.Fatalf("--additional-config %q is not one JSON argument: %v", raw, err)
	}
	if raw != c.AdditionalConfig {
		t.Errorf("argv has %s, Config.AdditionalConfig %s", raw, c.AdditionalConfig)
	}
	o, ok := ac["override_neuron_config"].(map[string]any)
	if !ok {
		t.Fatalf("--additional-config %s has no override_neuron_config object", raw)
	}
	return o
}

// TestMappingRerank checks the rules of the mapping on the four configs:
// prefix caching always explicit, block KV keys only with it, CPU sampling,
// blocks passed twice and equal.
func TestMappingRerank(t *testing.T) {
	pl := expand(t, loadShippedForTest(t, "rerank.yaml"))
	for _, c := range pl.Configs {
		argv := c.Server.Argv
		on, off := slices.Contains(argv, "--enable-prefix-caching"), slices.Contains(argv, "--no-enable-prefix-caching")
		if on == off || on != c.Settings.PrefixCaching() {
			t.Errorf("%s: --enable-prefix-caching %v, --no-enable-prefix-caching %v", c.Name, on, off)
		}
		o := overrides(t, c)
		_, bkv := o["is_block_kv_layout"]
		_, ipc := o["is_prefix_caching"]
		if bkv != on || ipc != on {
			t.Errorf("%s: is_block_kv_layout %v, is_prefix_caching %v with prefix caching %v", c.Name, bkv, ipc, on)
		}
		if v, ok := o["on_device_sampling_config"]; !ok || v != nil {
			t.Errorf("%s: on_device_sampling_config = %v, %v; want null", c.Name, v, ok)
		}
		if n := flagValue(argv, "--num-gpu-blocks-override"); n != jsonNumber(o["pa_num_blocks"]) {
			t.Errorf("%s: --num-gpu-blocks-override %s but pa_num_blocks %v", c.Name, n, o["pa_num_blocks"])
		}
		if o["enable_bucketing"] != c.Settings.Bucketing() {
			t.Errorf("%s: enable_bucketing %v", c.Name, o["enable_bucketing"])
		}
		if argv[0] != "vllm" || argv[1] != "serve" || argv[2] != "/models/Qwen3-Reranker-0.6B" {
			t.Errorf("%s: argv starts %q", c.Name, argv[:3])
		}
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMappingOptions: kv_cache_quant, sequence parallelism and flash
// decoding map to their NxDI keys (and the FP8 env var), the free map is
// merged last, additional_config keys sit beside override_neuron_config,
// and the JSON keeps HTML characters as they are.
func TestMappingOptions(t *testing.T) {
	p := mustParse(t, minimal+`base:
  max_model_len: 2048
  kv_cache_quant: true
  sequence_parallel: true
  flash_decoding: true
  neuron_config:
    on_device_sampling_config: {dynamic: true}
    fused_qkv: true
    quantized_checkpoints_path: "a<b & c>d"
  additional_config:
    max_prompt_length: 1600
  vllm_args: [--seed, "7"]
server:
  neuron_cores: "0-1"
  vllm_args: [--disable-log-requests]
load:
  - arrival: sync
    warmup: 1
`)
	c := expand(t, p).Configs[0]
	o := overrides(t, c)
	for k, want := range map[string]any{"kv_cache_quant": true, "sequence_parallel_enabled": true, "flash_decoding_enabled": true, "fused_qkv": true, "quantized_checkpoints_path": "a<b & c>d"} {
		if o[k] != want {
			t.Errorf("%s = %v, want %v", k, o[k], want)
		}
	}
	if ods, ok := o["on_device_sampling_config"].(map[string]any); !ok || ods["dynamic"] != true {
		t.Errorf("on_device_sampling_config = %v: the profile's value must win", o["on_device_sampling_config"])
	}
	if !strings.Contains(c.AdditionalConfig, `"a<b & c>d"`) || !strings.HasPrefix(c.AdditionalConfig, `{"max_prompt_length":1600,"override_neuron_config":{`) {
		t.Errorf("--additional-config %s", c.AdditionalConfig)
	}
	if !slices.Contains(c.Server.Env, "XLA_HANDLE_SPECIAL_SCALAR=1") {
		t.Errorf("env %q lacks XLA_HANDLE_SPECIAL_SCALAR=1", c.Server.Env)
	}
	tail := c.Server.Argv[len(c.Server.Argv)-3:]
	if !slices.Equal(tail, []string{"--disable-log-requests", "--seed", "7"}) {
		t.Errorf("argv ends %q, want server.vllm_args then the config's", tail)
	}
	if flagValue(c.Server.Argv, "--block-size") != "" || flagValue(c.Server.Argv, "--max-num-batched-tokens") != "" {
		t.Errorf("unset block_size / max_num_batched_tokens must not be passed: %q", c.Server.Argv)
	}
	if got := flagValue(c.Server.Argv, "--num-gpu-blocks-override"); got != "32" {
		t.Errorf("--num-gpu-blocks-override %s, want max_num_seqs' default 32 without prefix caching", got)
	}
}

// TestEnv checks the environment: loadgen's variables, server.env, then the
// config's env, sorted, with warnings when the profile undoes loadgen's.
func TestEnv(t *testing.T) {
	p := mustParse(t, minimal+`base:
  max_model_len: 2048
  env:
    NEURON_RT_LOG_LEVEL: DEBUG
    VLLM_SERVER_DEV_MODE: "0"
server:
  neuron_cores: "0-1"
  env:
    NEURON_RT_LOG_LEVEL: INFO
    NEURON_CC_FLAGS: --retry_failed_compilation
load:
  - arrival: sync
    warmup: 1
`)
	c := expand(t, p).Configs[0]
	want := []string{
		"NEURON_CC_FLAGS=--retry_failed_compilation",
		"NEURON_COMPILED_ARTIFACTS=" + c.ArtifactsDir,
		"NEURON_RT_LOG_LEVEL=DEBUG",
		"NEURON_RT_VISIBLE_CORES=0-1",
		"VLLM_SERVER_DEV_MODE=0",
	}
	if !slices.Equal(c.Server.Env, want) {
		t.Errorf("env\n got %q\nwant %q", c.Server.Env, want)
	}
	wantWarn := []string{"p.yaml:10: base.env.VLLM_SERVER_DEV_MODE: config base: turns off vLLM's dev endpoints: the sweep cannot reset the prefix cache between phases, so later phases can hit prompts cached by earlier ones"}
	if !slices.Equal(c.Warnings, wantWarn) {
		t.Errorf("warnings\n got %q\nwant %q", c.Warnings, wantWarn)
	}
}

// TestArtifactsDir: the same configuration always gets the same directory,
// whatever it runs on; anything that changes the compiled graphs gets a new
// one.
func TestArtifactsDir(t *testing.T) {
	const base = `name: t
model: /models/m
served_model_name: %s
tensor_parallel_size: 2
server:
  port: %s
  neuron_cores: "%s"
workload:
  dataset: testdata/sample.csv
base:
  max_model_len: 2048
  %s
load:
  - arrival: sync
`
	dir := func(served, port, cores, extra string) string {
		src := fmtProfile(base, served, port, cores, extra)
		return expand(t, mustParse(t, src)).Configs[0].ArtifactsDir
	}
	ref := dir("a", "8000", "0-1", "")
	tests := []struct {
		served, port, cores, extra string
		same                       bool
	}{
		// Loading the same profile again reuses the directory.
		{"a", "8000", "0-1", "", true},
		// Served name, port and cores do not change the compiled graphs.
		{"b", "9000", "2-3", "", true},
		// Sequences, buckets and neuron config all do.
		{"a", "8000", "0-1", "max_num_seqs: 8", false},
		{"a", "8000", "0-1", "context_encoding_buckets: [1024, 2048]", false},
		{"a", "8000", "0-1", "neuron_config: {fused_qkv: true}", false},
		// So do extra vLLM arguments and compiler environment.
		{"a", "8000", "0-1", "vllm_args: [--seed, '1']", false},
		{"a", "8000", "0-1", "env: {NEURON_CC_FLAGS: -O1}", false},
		// The runtime log level does not.
		{"a", "8000", "0-1", "env: {NEURON_RT_LOG_LEVEL: INFO}", true},
	}
	for _, tc := range tests {
		got := dir(tc.served, tc.port, tc.cores, tc.extra)
		if (got == ref) != tc.same {
			t.Errorf("%+v: dir %s, reference %s, want same=%v", tc, got, ref, tc.same)
		}
		if !strings.HasPrefix(got, DefaultArtifactsRoot+"/base-") {
			t.Errorf("dir %s is not <root>/<config>-<hash>", got)
		}
	}
	pl, err := mustParse(t, fmtProfile(base, "a", "8000", "0-1", "")).Expand(ExpandOptions{ArtifactsRoot: "/data/cache"})
	if err != nil {
		t.Fatal(err)
	}
	if got := pl.Configs[0].ArtifactsDir; got != "/data/cache/"+strings.TrimPrefix(ref, DefaultArtifactsRoot+"/") {
		t.Errorf("with ArtifactsRoot: %s", got)
	}
}

func fmtProfile(format string, args ...string) string {
	for _, a := range args {
		format = strings.Replace(format, "%s", a, 1)
	}
	return format
}
