package profiles

import (
	"slices"
	"strings"
	"testing"

	"loadgen/server"
)

func configNames(pl *Plan) []string {
	var out []string
	for _, c := range pl.Configs {
		out = append(out, c.Name)
	}
	return out
}

// TestMatrixNames checks the order (explicit configs first, then the
// product with the first key outermost) and the naming schemes.
func TestMatrixNames(t *testing.T) {
	tests := []struct {
		name   string
		matrix string
		want   []string
	}{
		// Booleans give <short>_on/_off; the offline benchmark's four configs.
		{"bools", `matrix:
  enable_prefix_caching: [true, false]
  enable_bucketing: [true, false]
`, []string{"cache_on-bucketing_on", "cache_on-bucketing_off", "cache_off-bucketing_on", "cache_off-bucketing_off"}},
		// Numbers give <short><value>; bucket lists join with "_".
		{"numbers and lists", `matrix:
  max_num_seqs: [4, 8]
  context_encoding_buckets: [[1024, 2048], [2048]]
`, []string{"seqs4-cte1024_2048", "seqs4-cte2048", "seqs8-cte1024_2048", "seqs8-cte2048"}},
		// Maps and argument lists are numbered from 1.
		{"maps", `matrix:
  neuron_config: [{fused_qkv: true}, {fused_qkv: false}]
  vllm_args: [[--seed, "1"]]
`, []string{"nc1-args1", "nc2-args1"}},
		// A template replaces {key} by the value's label.
		{"template", `matrix:
  name: "apc-{enable_prefix_caching}_len{max_model_len}"
  enable_prefix_caching: [false, true]
  max_model_len: [2048, 4096]
`, []string{"apc-off_len2048", "apc-off_len4096", "apc-on_len2048", "apc-on_len4096"}},
		// Explicit configs come first, in the order written.
		{"configs first", `configs:
  - name: z-first
  - name: a-second
matrix:
  max_num_seqs: [2, 1]
`, []string{"z-first", "a-second", "seqs2", "seqs1"}},
		// With neither configs nor matrix, base runs alone.
		{"base only", "", []string{"base"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, minimal+"base:\n  max_model_len: 4096\n  block_size: 32\n"+tc.matrix)
			if got := configNames(expand(t, p)); !slices.Equal(got, tc.want) {
				t.Errorf("configs %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMerge: a config's scalars and lists replace base's, its maps merge
// key by key, and expanding never changes base.
func TestMerge(t *testing.T) {
	p := mustParse(t, minimal+`base:
  max_model_len: 2048
  context_encoding_buckets: [1024, 2048]
  vllm_args: [--seed, "1"]
  neuron_config: {fused_qkv: true, async_mode: false}
  env: {A: base, B: base}
configs:
  - name: c
    max_num_seqs: 8
    context_encoding_buckets: [2048]
    vllm_args: [--seed, "2"]
    neuron_config: {async_mode: true}
    env: {B: config}
  - name: d
`)
	pl := expand(t, p)
	c, d := pl.Configs[0].Settings, pl.Configs[1].Settings
	if c.NumSeqs() != 8 || !slices.Equal(c.ContextEncodingBuckets, []int{2048}) || !slices.Equal(c.VLLMArgs, []string{"--seed", "2"}) {
		t.Errorf("config c: %+v", c)
	}
	if c.NeuronConfig["fused_qkv"] != true || c.NeuronConfig["async_mode"] != true || c.Env["A"] != "base" || c.Env["B"] != "config" {
		t.Errorf("config c maps: %v %v", c.NeuronConfig, c.Env)
	}
	if d.NumSeqs() != DefaultMaxNumSeqs || d.NeuronConfig["async_mode"] != false || d.Env["B"] != "base" || !slices.Equal(d.ContextEncodingBuckets, []int{1024, 2048}) {
		t.Errorf("config d must be base with defaults: %+v", d)
	}
	if p.Base.MaxNumSeqs != nil || p.Base.NeuronConfig["async_mode"] != false {
		t.Errorf("expanding changed base: %+v", p.Base)
	}
}

// TestExpandOptions: the sweep's overrides replace the command, host, port
// and artifacts root, and nothing else.
func TestExpandOptions(t *testing.T) {
	p := mustParse(t, minimal+"base:\n  max_model_len: 2048\nserver:\n  neuron_cores: \"0-1\"\n")
	pl, err := p.Expand(ExpandOptions{Command: []string{"/bin/loadgen", "sim", "serve"}, Host: "::1", Port: 18000, ArtifactsRoot: "/tmp/a"})
	if err != nil {
		t.Fatal(err)
	}
	c := pl.Configs[0]
	if !slices.Equal(c.Server.Argv[:4], []string{"/bin/loadgen", "sim", "serve", "/models/m"}) {
		t.Errorf("argv %q", c.Server.Argv)
	}
	if flagValue(c.Server.Argv, "--host") != "::1" || flagValue(c.Server.Argv, "--port") != "18000" || c.Server.Host != "::1" || c.Server.Port != 18000 {
		t.Errorf("host/port: argv %q, config %s:%d", c.Server.Argv, c.Server.Host, c.Server.Port)
	}
	if !strings.HasPrefix(c.ArtifactsDir, "/tmp/a/base-") {
		t.Errorf("artifacts %s", c.ArtifactsDir)
	}
	want := server.Config{Name: "base", Argv: c.Server.Argv, Env: c.Server.Env, Host: "::1", Port: 18000, ServedModel: "/models/m",
		ReadyTimeout: server.DefaultReadyTimeout, StopGrace: server.DefaultStopGrace}
	if !equalConfig(c.Server, want) {
		t.Errorf("server config\n got %+v\nwant %+v", c.Server, want)
	}
}

func equalConfig(a, b server.Config) bool {
	return slices.Equal(a.Argv, b.Argv) && slices.Equal(a.Env, b.Env) && a.Name == b.Name && a.Host == b.Host && a.Port == b.Port &&
		a.ServedModel == b.ServedModel && a.Dir == b.Dir && a.ReadyTimeout == b.ReadyTimeout && a.StopGrace == b.StopGrace &&
		a.URL == b.URL && a.APIKey == b.APIKey
}

// TestRemote: with server.url nothing is launched; launch-only keys and
// several configs are warned about.
func TestRemote(t *testing.T) {
	p := mustParse(t, minimal+`base:
  max_model_len: 2048
server:
  url: http://10.0.0.5:8000
  port: 9000
configs:
  - name: a
  - name: b
`)
	pl := expand(t, p)
	for _, c := range pl.Configs {
		if !c.Server.Remote() || c.Server.Argv != nil || c.Server.Env != nil || c.ArtifactsDir != "" || c.Server.BaseURL() != "http://10.0.0.5:8000" {
			t.Errorf("%s: %+v", c.Name, c.Server)
		}
	}
	want := []string{
		"p.yaml:9: server.url: 2 configs run against the same remote server, whose settings loadgen cannot change: their results only differ by noise",
		"p.yaml:10: server.port: is ignored: server.url names a server loadgen does not launch",
	}
	if !slices.Equal(pl.Warnings, want) {
		t.Errorf("warnings\n got %q\nwant %q", pl.Warnings, want)
	}
}

// TestAPIKeyEnv: the key is read at Expand (not Load), given to the
// launched server as VLLM_API_KEY and never printed.
func TestAPIKeyEnv(t *testing.T) {
	src := minimal + "base:\n  max_model_len: 2048\nserver:\n  neuron_cores: \"0-1\"\n  api_key_env: LOADGEN_TEST_KEY\n"
	t.Setenv("LOADGEN_TEST_KEY", "")
	p := mustParse(t, src) // Load does not need the key
	if _, err := p.Expand(ExpandOptions{}); err == nil || err.Error() != "p.yaml:10: server.api_key_env: the environment variable LOADGEN_TEST_KEY is empty or not set: export the API key there" {
		t.Errorf("Expand without the key: %v", err)
	}
	// A key with a control character would fail every probe until the
	// ready timeout: refused here, without showing it.
	t.Setenv("LOADGEN_TEST_KEY", "s3cret\n")
	if _, err := p.Expand(ExpandOptions{}); err == nil || !strings.HasPrefix(err.Error(), `p.yaml:10: server.api_key_env: the environment variable LOADGEN_TEST_KEY: the API key contains a control character (a newline "\n" at byte 7 of 7)`) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Expand with a newline in the key: %v", err)
	}
	t.Setenv("LOADGEN_TEST_KEY", "s3cret")
	c := expand(t, p).Configs[0]
	if c.Server.APIKey != "s3cret" || !slices.Contains(c.Server.Env, "VLLM_API_KEY=s3cret") {
		t.Errorf("APIKey %q, env %q", c.Server.APIKey, c.Server.Env)
	}
	if strings.Contains(c.Server.CommandLine(), "s3cret") {
		t.Errorf("the key leaks into the command line:\n%s", c.Server.CommandLine())
	}
}

// TestOnly selects configs by name and names the unknown ones.
func TestOnly(t *testing.T) {
	pl := expand(t, loadShippedForTest(t, "rerank.yaml"))
	got, err := pl.Only("cache_off-bucketing_off", "cache_on-bucketing_on")
	if err != nil {
		t.Fatal(err)
	}
	if names := configNames(got); !slices.Equal(names, []string{"cache_on-bucketing_on", "cache_off-bucketing_off"}) {
		t.Errorf("Only kept %q, want plan order", names)
	}
	_, err = pl.Only("cache_off-bucketng_on")
	want := `no config named "cache_off-bucketng_on" (did you mean cache_off-bucketing_on?) in profile rerank; its configs are cache_on-bucketing_on, cache_on-bucketing_off, cache_off-bucketing_on, cache_off-bucketing_off`
	if err == nil || err.Error() != want {
		t.Errorf("Only(typo) = %v\nwant %s", err, want)
	}
}
