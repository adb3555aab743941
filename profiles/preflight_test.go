package profiles

import (
	"slices"
	"testing"
)

// TestWarnings pins every pre-flight warning: what vllm-neuron accepts on
// some versions, or what starts but spoils the measurement. Each profile is
// minimal plus the lines given; cores are set unless the row is about them.
func TestWarnings(t *testing.T) {
	const cores = "server:\n  neuron_cores: \"0-1\"\n"
	tests := []struct {
		name   string
		extra  string
		config []string // warnings of the first config
		plan   []string
	}{
		// A clean profile has no warnings at all.
		{"clean", cores + "base:\n  max_model_len: 2048\n", nil, nil},
		// The offline benchmark's 512 blocks without prefix caching: fine on
		// plugin 0.2.x, wrong on 0.4+.
		{"blocks without prefix caching", cores + "base:\n  max_model_len: 2048\n  max_num_seqs: 4\n  pa_num_blocks: 512\n",
			[]string{"p.yaml:11: base.pa_num_blocks: config base: is 512, but without prefix caching vllm-neuron ≥ 0.4 wants exactly max_num_seqs (4), one max_model_len block per sequence; 0.2.x accepts more (the offline benchmark ran 512): set pa_num_blocks: 4, or leave it unset"}, nil},
		// The workload fits the buckets, but longer prompts would not.
		{"largest bucket below max_model_len", cores + "base:\n  max_model_len: 2048\n  context_encoding_buckets: [512, 1024, 1536]\n",
			[]string{"p.yaml:10: base.context_encoding_buckets: config base: largest context bucket 1536 is below max_model_len 2048: this workload fits, but any prompt longer than 1536 kills the engine on Neuron: end the list with 2048"}, nil},
		// Bucket lists do nothing with bucketing off.
		{"buckets without bucketing", cores + "base:\n  max_model_len: 2048\n  enable_bucketing: false\n  token_generation_buckets: [2048]\n",
			[]string{"p.yaml:11: base.token_generation_buckets: config base: is ignored because enable_bucketing is false: every prompt is padded to max_model_len (2048)"}, nil},
		// A known vllm-neuron bug.
		{"prefix caching with one sequence", cores + "base:\n  max_model_len: 2048\n  block_size: 32\n  max_num_seqs: 1\n  enable_prefix_caching: true\n",
			[]string{"p.yaml:11: base.max_num_seqs: config base: prefix caching with batch size 1 gives incorrect outputs on vllm-neuron (known issue): use max_num_seqs of 2 or more, or turn prefix caching off"}, nil},
		// On-device sampling returns no logprobs.
		{"on-device sampling with rerank", cores + "base:\n  max_model_len: 2048\n  neuron_config:\n    on_device_sampling_config: {dynamic: true}\n",
			[]string{"p.yaml:11: base.neuron_config.on_device_sampling_config: config base: on-device sampling returns no logprobs, and this workload needs them (the reranker scores from them): on vLLM 0.11 every request then fails (\"list index out of range\"); remove it (loadgen sets null, i.e. CPU sampling)"}, nil},
		// Keys the plugin derives from vLLM's flags.
		{"derived neuron key", cores + "base:\n  max_model_len: 2048\n  neuron_config:\n    tp_degree: 4\n",
			[]string{"p.yaml:11: base.neuron_config.tp_degree: config base: is 4 but the plugin derives 2 from tensor_parallel_size: they will disagree; remove it and set tensor_parallel_size"}, nil},
		// A shared artifacts directory defeats the per-config cache.
		{"artifacts overridden", cores + "base:\n  max_model_len: 2048\n  env:\n    NEURON_COMPILED_ARTIFACTS: /tmp/shared\n",
			[]string{"p.yaml:11: base.env.NEURON_COMPILED_ARTIFACTS: config base: replaces the per-config artifacts directory /var/tmp/loadgen/compiled-artifacts/base-5e239883a3a3: configs that share a directory reuse each other's compiled graphs and the plugin ignores the new overrides; remove it and use server.compiled_artifacts"}, nil},
		// skip_warmup moves the warm-up into the first phase's numbers.
		{"skip warmup without warmup queries", cores + "base:\n  max_model_len: 2048\n  skip_warmup: true\n",
			[]string{"p.yaml:10: base.skip_warmup: config base: the server skips its warm-up, so the first request to each bucket pays it inside the first phase (sync): set warmup: N on that phase"}, nil},
		// The NxDI kernels need bf16.
		{"flash decoding without bf16", "server:\n  neuron_cores: \"0-1\"\n  dtype: float16\nbase:\n  max_model_len: 2048\n  flash_decoding: true\n",
			[]string{"p.yaml:11: base.flash_decoding: config base: the NxDI kernels need bf16 but server.dtype is float16: set dtype: bfloat16"}, nil},
		// Without neuron_cores the runtime takes every core.
		{"no cores", "base:\n  max_model_len: 2048\n", nil,
			[]string{"p.yaml: server: neuron_cores is not set, so the Neuron runtime gives this server every core on the host: set it, e.g. neuron_cores: \"0-1\" for TP 2"}},
		// More cores than TP are reserved for nothing.
		{"more cores than TP", "server:\n  neuron_cores: \"0-3\"\nbase:\n  max_model_len: 2048\n", nil,
			[]string{"p.yaml:7: server.neuron_cores: \"0-3\" reserves 4 NeuronCores but tensor_parallel_size 2 uses 2: the runtime holds all of them until the server exits"}},
		// Hub ids fail with Qwen's tied embeddings on Neuron.
		{"hub id", cores + "base:\n  max_model_len: 2048\nserved_model_name: rr\n", nil,
			[]string{"p.yaml:2: model: \"Qwen/Qwen3-Reranker-0.6B\" looks like a Hugging Face id: on Neuron serve a local directory (Qwen's tied embeddings with shard-on-load fail with \"Cannot copy out of meta tensor\")"}},
		// A first compile takes far longer than five minutes.
		{"short ready timeout", "server:\n  neuron_cores: \"0-1\"\n  ready_timeout: 5m\nbase:\n  max_model_len: 2048\n", nil,
			[]string{"p.yaml:8: server.ready_timeout: 5m0s is short: a first Neuron compile takes 10–30 minutes (cached starts 1–3)"}},
		// TP 32 exists on Trainium only.
		{"trainium TP", "server:\n  neuron_cores: \"0-31\"\nbase:\n  max_model_len: 2048\n", nil,
			[]string{"p.yaml:3: tensor_parallel_size: 32 is valid on Trainium but not on Inferentia2 (1, 2, 4, 8, 24)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := minimal + tc.extra
			switch tc.name {
			case "hub id":
				src = "name: t\nmodel: Qwen/Qwen3-Reranker-0.6B\ntensor_parallel_size: 2\nworkload:\n  dataset: testdata/sample.csv\n" + tc.extra
			case "trainium TP":
				src = "name: t\nmodel: /models/m\ntensor_parallel_size: 32\nworkload:\n  dataset: testdata/sample.csv\n" + tc.extra
			}
			pl := expand(t, mustParse(t, src))
			if got := pl.Configs[0].Warnings; !slices.Equal(got, tc.config) {
				t.Errorf("config warnings\n got %q\nwant %q", got, tc.config)
			}
			if !slices.Equal(pl.Warnings, tc.plan) {
				t.Errorf("plan warnings\n got %q\nwant %q", pl.Warnings, tc.plan)
			}
		})
	}
}

// TestGrouping: an error that base causes in every config is reported
// once, naming the configs; one config's own error names only it.
func TestGrouping(t *testing.T) {
	_, err := Parse([]byte(minimal+`base:
  max_model_len: 2048
  block_size: 32
  max_num_seqs: 4
  pa_num_blocks: 100
configs:
  - name: a
    enable_prefix_caching: true
  - name: b
    enable_prefix_caching: true
  - name: c
    enable_prefix_caching: true
    pa_num_blocks: 10
`), "p.yaml")
	want := "p.yaml:10: base.pa_num_blocks: configs a, b: 100 blocks are too few with prefix caching: ceil(max_model_len 2048 / block_size 32) × max_num_seqs 4 = 256 (vLLM: \"At least 256 blocks are required\"): set pa_num_blocks to at least 256, or lower max_model_len or max_num_seqs\n" +
		"p.yaml:18: configs[2].pa_num_blocks: config c: 10 blocks are too few with prefix caching: ceil(max_model_len 2048 / block_size 32) × max_num_seqs 4 = 256 (vLLM: \"At least 256 blocks are required\"): set pa_num_blocks to at least 256, or lower max_model_len or max_num_seqs"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
