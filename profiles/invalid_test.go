package profiles

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalid pins every validation rule to a file under testdata and the
// exact message the user sees, file:line included. $TESTDATA stands for
// the absolute path of testdata (it appears where a resolved path is
// named).
func TestInvalid(t *testing.T) {
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string // testdata/invalid-<name>.yaml
		want string
	}{
		// YAML syntax errors keep yaml.v3's message and line.
		{"syntax", "testdata/invalid-syntax.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		// A document with only comments has nothing to run.
		{"empty", "testdata/invalid-empty.yaml: the profile is empty"},
		// A second document would be silently ignored.
		{"two-documents", "testdata/invalid-two-documents.yaml:10: only one YAML document is allowed (remove the ---)"},
		// The top level must be a mapping of keys.
		{"not-mapping", "testdata/invalid-not-mapping.yaml:1: want a mapping of keys (name:, model:, …), got a list"},
		// A close typo gets a "did you mean".
		{"unknown-key", "testdata/invalid-unknown-key.yaml:7: base.max_model_length: unknown key; did you mean max_model_len?"},
		// With nothing close, the known keys of the section are listed.
		{"unknown-key-list", "testdata/invalid-unknown-key-list.yaml:10: workload.colour: unknown key; known keys in workload: dataset, format, search_num, top_n, batch_size, max_length, instruction, max_tokens, logprobs, short_rows, yes_token_id, no_token_id, truncation, extra_body, synthetic, max_field_size, max_row_size, max_decompressed_size"},
		// A setting at the top level is pointed to base:.
		{"misplaced-key", "testdata/invalid-misplaced-key.yaml:6: max_model_len: unknown key here; it belongs under base: (or a config)"},
		// The yaml.v3 node tree keeps both keys; the second would win silently.
		{"duplicate-key", "testdata/invalid-duplicate-key.yaml:8: base.max_model_len: duplicate key (first at line 7)"},
		// A word where an integer belongs.
		{"type-int", "testdata/invalid-type-int.yaml:8: base.max_num_seqs: want an integer, got \"four\""},
		// YAML 1.1 yes/no is a string in YAML 1.2: say to write true.
		{"type-bool", "testdata/invalid-type-bool.yaml:8: base.enable_prefix_caching: want true or false, got \"yes\" (write true)"},
		// A scalar where a bucket list belongs.
		{"type-list", "testdata/invalid-type-list.yaml:8: base.context_encoding_buckets: want a list, got 2048"},
		// A bare number has no unit.
		{"duration", "testdata/invalid-duration.yaml:6: server.ready_timeout: want a duration like \"90s\" or \"5m\", got \"90\" (a bare number has no unit: write \"90s\" for seconds)"},
		// A rate is a number or inf.
		{"rate", "testdata/invalid-rate.yaml:12: load[0].rate: want queries per second (a number), inf, or a share of the capacity an earlier inf phase measured (75%), got \"fast\""},
		// A share of capacity needs an inf phase before it to measure it.
		{"rate-share-no-inf", "testdata/invalid-rate-share-no-inf.yaml:13: load[1].rate: 75% is a share of the capacity an earlier inf phase measures, and no inf phase comes before this one: add one before it, e.g. - {arrival: inf, max_concurrency: 4, queries: 12}"},
		// Shares are bounded, and spelt with %.
		{"rate-share", `testdata/invalid-rate-share.yaml:15: load[1].ramp.to: at most 1000% of capacity, got 2000%
testdata/invalid-rate-share.yaml:18: load[2].rate: want queries per second (a number), inf, or a share of the capacity an earlier inf phase measured (75%), got "75 percent"`},
		// A search needs an upper bound: an inf phase before it, a rate, or a probe.
		{"search-no-upper", "testdata/invalid-search-no-upper.yaml:14: load[1].search: needs an upper bound: put an inf phase before it (its capacity is the bound), or set search.upper, or search.probe_concurrency to measure it with a probe trial at rate inf"},
		// Every key of a search is checked, each at its line.
		{"search-keys", `testdata/invalid-search-keys.yaml:13: load[1].rate: a search sets the rate of each trial: remove rate
testdata/invalid-search-keys.yaml:16: load[1].search.metric: want one of query_latency, ttft or e2el, got "itl"
testdata/invalid-search-keys.yaml:17: load[1].search.percentile: want one of 50, 90, 95, 99 or 99.9 (the percentiles a phase result holds), got 98
testdata/invalid-search-keys.yaml:18: load[1].search.tolerance: want a percentage like 5%, got 5 (write 5%)
testdata/invalid-search-keys.yaml:19: load[1].search.max_failed: want a share of the queries from 0% to under 100%, got 100%
testdata/invalid-search-keys.yaml:20: load[1].search.max_trials: want 2 to 50 trials, got 1
testdata/invalid-search-keys.yaml:21: load[1].search.lower: must be below search.upper (2), got 3`},
		// A search runs open-loop trials, and needs a threshold.
		{"search-arrival", `testdata/invalid-search-arrival.yaml:14: load[1].search: a search runs trials at constant rates: use arrival: poisson, gamma or constant
testdata/invalid-search-arrival.yaml:17: load[2].search.max: required: the SLO's threshold on ttft, e.g. max: 2s (or set the profile's slo.ttft)`},
		// A search, or a saturation stop, judges what one client sees: no split.
		{"search-clients", `testdata/invalid-search-clients.yaml:14: load[1].clients: a search runs each trial from one client, whose saturation stop judges the whole trial: remove clients
testdata/invalid-search-clients.yaml:19: load[2].clients: the saturation stop judges a phase as one client sees it, and 2 clients would each judge a share: remove clients or saturation_stop`},
		// Only a phase with a rate can be past capacity; trial names are reserved.
		{"saturation-stop", `testdata/invalid-saturation-stop.yaml:12: load[0].saturation_stop: only a phase with a rate can be past capacity (poisson, gamma or constant): a sync phase is a closed loop, an inf phase saturated by design
testdata/invalid-saturation-stop.yaml:13: load[1].name: "x.trial-01" holds ".trial-", which names a search's trials (<search>.trial-01): choose another name`},
		// NEURON_RT_VISIBLE_CORES syntax, reversed range.
		{"cores", "testdata/invalid-cores.yaml:4: server.neuron_cores: want cores like \"0-1\", \"2\" or \"0,1\", got \"1-0\""},
		// Every problem is reported at once, in line order.
		{"many", `testdata/invalid-many.yaml:3: tensor_parallel_size: 3 is not a TP degree NxDI supports on Inferentia2 (1, 2, 4, 8, 24): use one of them, and make sure the model's attention heads divide by it
testdata/invalid-many.yaml:5: server.port: 0 is not a TCP port (1–65535)
testdata/invalid-many.yaml:8: base.blocksize: unknown key; did you mean block_size?
testdata/invalid-many.yaml:11: workload.top_n: 30 is more than search_num (20): a query cannot keep more documents than it scores
testdata/invalid-many.yaml:14: load[0].rate: a sync phase sends the next query when the last one is done, so it has no rate: remove rate`},
		// The profile name names the results directory.
		{"name", "testdata/invalid-name.yaml:1: name: \"my sweep\" is not a safe file name: use letters, digits, '.', '_' and '-', starting with a letter or digit (it names the results directory)"},
		// There is nothing to serve without a model.
		{"model-missing", "testdata/invalid-model-missing.yaml: model: required: the model directory to serve, e.g. /models/Qwen3-Reranker-0.6B"},
		// TP degrees NxDI does not support on inf2.
		{"tp", "testdata/invalid-tp.yaml:3: tensor_parallel_size: 3 is not a TP degree NxDI supports on Inferentia2 (1, 2, 4, 8, 24): use one of them, and make sure the model's attention heads divide by it"},
		// Fewer visible cores than TP crashes with c10::Error.
		{"cores-tp", "testdata/invalid-cores-tp.yaml:5: server.neuron_cores: \"0\" gives 1 NeuronCore(s) but tensor_parallel_size is 2: the server would die with c10::Error; list 2 cores (e.g. \"0-1\")"},
		// Ports beyond 65535.
		{"port", "testdata/invalid-port.yaml:6: server.port: 70000 is not a TCP port (1–65535)"},
		// A dtype vLLM does not know.
		{"dtype", "testdata/invalid-dtype.yaml:6: server.dtype: \"bf16\" is not a vLLM --dtype: use bfloat16 (the Neuron default), float16 or float32"},
		// A remote URL without scheme.
		{"url", "testdata/invalid-url.yaml:6: server.url: \"localhost:8000\" is not an http(s) URL like http://10.0.0.5:8000"},
		// Api_key_env names a variable, not the key.
		{"api-key-env", "testdata/invalid-api-key-env.yaml:6: server.api_key_env: \"my-key\" is not an environment variable name"},
		// Environment names with hyphens cannot be exported.
		{"env-name", "testdata/invalid-env-name.yaml:7: server.env.BAD-NAME: \"BAD-NAME\" is not an environment variable name"},
		// The dataset must exist before anything starts.
		{"dataset-missing", "testdata/invalid-dataset-missing.yaml:9: workload.dataset: cannot read $TESTDATA/missing.csv: no such file or directory"},
		// A rerank workload needs a dataset.
		{"dataset-required", "testdata/invalid-dataset-required.yaml:8: workload.dataset: required: a dataset file (.csv with query,answer_0..; or .jsonl), or format: synthetic"},
		// The format cannot be guessed from .md.
		{"dataset-ext", "testdata/invalid-dataset-ext.yaml:9: workload.dataset: cannot tell the format of \"standin/README.md\" from its extension: set workload.format to csv or jsonl"},
		// Unknown formats.
		{"format", "testdata/invalid-format.yaml:10: workload.format: \"tsv\" is not a format: use csv, jsonl or synthetic"},
		// Top_n cannot exceed search_num.
		{"top-n", "testdata/invalid-top-n.yaml:11: workload.top_n: 6 is more than search_num (5): a query cannot keep more documents than it scores"},
		// The reranker scores from logprobs.
		{"logprobs-zero", "testdata/invalid-logprobs-zero.yaml:10: workload.logprobs: the reranker scores from the logprobs of yes and no: use 20 (the default)"},
		// VLLM refuses logprobs above 20.
		{"logprobs-range", "testdata/invalid-logprobs-range.yaml:10: workload.logprobs: 50 is outside 0–20 (vLLM's default --max-logprobs is 20)"},
		// Enum typo with a suggestion.
		{"short-rows", "testdata/invalid-short-rows.yaml:10: workload.short_rows: \"padd\" is not one of error, pad, skip; did you mean pad?"},
		// Yes and no must differ.
		{"token-ids", "testdata/invalid-token-ids.yaml:11: workload.no_token_id: is the same token as yes_token_id (5)"},
		// Fields loadgen owns cannot be overridden.
		{"extra-body", `testdata/invalid-extra-body.yaml:11: workload.extra_body.stream: is set by loadgen for every request and cannot be overridden
testdata/invalid-extra-body.yaml:12: workload.extra_body.max_tokens: use workload.max_tokens instead
testdata/invalid-extra-body.yaml:13: workload.extra_body.n: asks for more than one choice per prompt, and loadgen expects exactly one (a choice per prompt is what it checks and scores): remove it`},
		// Rerank keys make no sense for synthetic load.
		{"synthetic-keys", `testdata/invalid-synthetic-keys.yaml:10: workload.search_num: only applies to rerank workloads (csv, jsonl), not to format: synthetic
testdata/invalid-synthetic-keys.yaml:11: workload.max_tokens: a synthetic workload takes max_tokens from synthetic.output_len`},
		// Synthetic load reads no dataset.
		{"synthetic-dataset", "testdata/invalid-synthetic-dataset.yaml:10: workload.dataset: a synthetic workload has no dataset: remove dataset or format: synthetic"},
		// Input_len_range is a fraction below 1.
		{"synthetic-range", "testdata/invalid-synthetic-range.yaml:11: workload.synthetic.input_len_range: 1.5 is outside [0, 1): prompt lengths spread over input_len·(1±range)"},
		// One pass needs a dataset.
		{"synthetic-sync", "testdata/invalid-synthetic-sync.yaml:11: load[0]: a sync phase without queries or duration makes one pass over the dataset, and a synthetic workload has none: set queries or duration"},
		// The default phase (one sync pass) needs a dataset.
		{"synthetic-load", "testdata/invalid-synthetic-load.yaml: load: required with a synthetic workload: the default, one sync pass over the dataset, needs a dataset"},
		// Synthetic options without format: synthetic.
		{"synthetic-block", "testdata/invalid-synthetic-block.yaml:10: workload.synthetic: only applies with format: synthetic"},
		// An explicit empty load list runs nothing.
		{"load-empty", "testdata/invalid-load-empty.yaml:10: load: lists no phases: write at least one, e.g. - arrival: sync"},
		// Every phase names its arrival process.
		{"arrival-missing", "testdata/invalid-arrival-missing.yaml:11: load[0].arrival: required: one of poisson, gamma, constant, sync or inf"},
		// Arrival typo with a suggestion.
		{"arrival-typo", "testdata/invalid-arrival-typo.yaml:11: load[0].arrival: \"possion\" is not an arrival process; did you mean poisson?"},
		// Sync is closed loop: a rate is meaningless.
		{"sync-rate", "testdata/invalid-sync-rate.yaml:12: load[0].rate: a sync phase sends the next query when the last one is done, so it has no rate: remove rate"},
		// Sync has one query in flight.
		{"sync-concurrency", "testdata/invalid-sync-concurrency.yaml:12: load[0].max_concurrency: a sync phase has one query in flight; for a closed loop of 4 requests in flight use arrival: inf with max_concurrency: 4"},
		// Open-loop arrivals need a rate.
		{"rate-missing", "testdata/invalid-rate-missing.yaml:11: load[0].rate: required for arrival poisson: queries per second, e.g. rate: 2"},
		// A zero rate never sends.
		{"rate-zero", "testdata/invalid-rate-zero.yaml:12: load[0].rate: must be positive, got 0"},
		// Rate: inf without max_concurrency.
		{"rate-inf", "testdata/invalid-rate-inf.yaml:11: load[0].max_concurrency: required with rate inf: every query is due at once, so cap the requests in flight (e.g. max_concurrency: 4)"},
		// Arrival: inf without max_concurrency.
		// A sync phase is one query at a time: it cannot be split.
		{"clients-sync", "testdata/invalid-clients-sync.yaml:12: load[0].clients: a sync phase sends one query at a time: 2 clients would send 2 at a time; split a poisson or inf phase instead"},
		// Every client needs a query.
		{"clients-queries", "testdata/invalid-clients-queries.yaml:14: load[0].clients: queries 3 cannot be shared by 4 clients: every client needs at least one query"},
		{"inf-concurrency", "testdata/invalid-inf-concurrency.yaml:11: load[0].max_concurrency: required with rate inf: every query is due at once, so cap the requests in flight (e.g. max_concurrency: 4)"},
		// Arrival inf with a numeric rate.
		{"inf-rate", "testdata/invalid-inf-rate.yaml:12: load[0].rate: arrival inf sends every query at once: remove rate, or use poisson, gamma or constant"},
		// Burstiness is gamma's shape only.
		{"burstiness", "testdata/invalid-burstiness.yaml:13: load[0].burstiness: only applies to arrival: gamma (poisson is gamma with burstiness 1)"},
		// Gamma needs a positive shape.
		{"burstiness-zero", "testdata/invalid-burstiness-zero.yaml:13: load[0].burstiness: must be positive (below 1 is burstier than poisson, above 1 more regular), got 0"},
		// Exactly one of queries and duration.
		{"queries-and-duration", "testdata/invalid-queries-and-duration.yaml:14: load[0].duration: set queries or duration, not both"},
		// An open-loop phase needs an end.
		{"no-end", "testdata/invalid-no-end.yaml:11: load[0]: set queries (how many) or duration (how long) to end the phase"},
		// A phase planning more arrivals than MaxPhaseArrivals is a typo,
		// refused before anything is scheduled: by its queries…
		{"queries-absurd", "testdata/invalid-queries-absurd.yaml:13: load[0].queries: 1000000000000 queries (and 0 warmup) are more than 1000000000, loadgen's bound for one phase: is queries: 1000000000000 a typo?"},
		// …or by its peak rate times its duration.
		{"duration-absurd", "testdata/invalid-duration-absurd.yaml:14: load[0].duration: 1000h0m0s at 1e+06 queries/s plans about 3.6e+12 arrivals, more than 1000000000, loadgen's bound for one phase: shorten duration or lower the rate"},
		// Zero queries.
		{"queries-zero", "testdata/invalid-queries-zero.yaml:13: load[0].queries: must be at least 1, got 0"},
		// Negative warmup.
		{"warmup", "testdata/invalid-warmup.yaml:12: load[0].warmup: must not be negative, got -1"},
		// A zero concurrency cap sends nothing.
		{"concurrency-zero", "testdata/invalid-concurrency-zero.yaml:13: load[0].max_concurrency: must be at least 1, got 0"},
		// Ramp strategy and both ends are checked.
		{"ramp", `testdata/invalid-ramp.yaml:13: load[0].ramp.to: required: the rate in queries/s (or a share of capacity, e.g. 50%) at the end of the phase
testdata/invalid-ramp.yaml:14: load[0].ramp.strategy: want linear or exponential, got "sine"`},
		// Ramp and rate contradict each other.
		{"ramp-rate", "testdata/invalid-ramp-rate.yaml:12: load[0].rate: ramp sets the rate: remove rate, or remove ramp"},
		// Sync has no rate to ramp.
		{"ramp-sync", "testdata/invalid-ramp-sync.yaml:12: load[0].ramp: a sync phase has no rate to ramp: use poisson, gamma or constant"},
		// A zero request timeout fails every request.
		{"request-timeout", "testdata/invalid-request-timeout.yaml:12: load[0].request_timeout: must be positive (default 5m0s)"},
		// Phase names become file names: no path tricks.
		{"phase-name", "testdata/invalid-phase-name.yaml:11: load[0].name: \"../up\" is not a safe file name: use letters, digits, '.', '_' and '-', starting with a letter or digit (it names the phase's result files)"},
		// Derived phase names must be unique too.
		{"phase-duplicate", "testdata/invalid-phase-duplicate.yaml:14: load[1]: phase name \"poisson-1\" is already used by load[0] (line 11): set name: on one of them"},
		// Zero sequences.
		{"setting-zero", "testdata/invalid-setting-zero.yaml:8: base.max_num_seqs: must be at least 1, got 0"},
		// Bucket lists increase.
		{"buckets-order", "testdata/invalid-buckets-order.yaml:8: base.context_encoding_buckets[1]: buckets must increase: 256 follows 512"},
		// An empty bucket list compiles nothing.
		{"buckets-empty", "testdata/invalid-buckets-empty.yaml:8: base.context_encoding_buckets: is empty: list the lengths, or remove the key to let the plugin choose powers of two"},
		// Hyphenated override keys are dropped by the plugin.
		{"neuron-hyphen", "testdata/invalid-neuron-hyphen.yaml:9: base.neuron_config.fused-qkv: NxDI config keys use underscores; a hyphenated key is silently dropped: write fused_qkv"},
		// Override keys that settings own cannot be set twice.
		{"neuron-managed", "testdata/invalid-neuron-managed.yaml:9: base.neuron_config.enable_bucketing: is derived from the setting enable_bucketing: set enable_bucketing instead, so that the checks and the artifacts key see it"},
		// Override_neuron_config belongs under neuron_config.
		{"additional-config", "testdata/invalid-additional-config.yaml:9: base.additional_config.override-neuron-config: put override_neuron_config keys under neuron_config"},
		// Flags loadgen derives cannot be repeated in vllm_args.
		{"vllm-args", "testdata/invalid-vllm-args.yaml:8: base.vllm_args[0]: --max-model-len: set max_model_len instead"},
		// --device was removed in vLLM 0.10.
		{"vllm-args-device", "testdata/invalid-vllm-args-device.yaml:6: server.vllm_args[0]: --device: was removed in vLLM 0.10 (argparse error); the plugin selects Neuron by itself: remove it"},
		// Configs need names.
		{"config-name-missing", "testdata/invalid-config-name-missing.yaml:9: configs[0].name: required: every config needs a name (it names the config's results directory)"},
		// Config names become directory names.
		{"config-name-unsafe", "testdata/invalid-config-name-unsafe.yaml:9: configs[0].name: \"a/b\" is not a safe file name: use letters, digits, '.', '_' and '-', starting with a letter or digit (it names the config's results directory)"},
		// Two configs with one name.
		{"config-duplicate", "testdata/invalid-config-duplicate.yaml:11: configs[1].name: config name \"a\" is already used by configs[0].name (line 9): every config needs its own name"},
		// A template placeholder that is not a matrix key.
		{"matrix-placeholder", "testdata/invalid-matrix-placeholder.yaml:9: matrix.name: {max_num_seq} is not a key of the matrix (max_num_seqs)"},
		// A matrix with only a name varies nothing.
		{"matrix-empty", "testdata/invalid-matrix-empty.yaml:9: matrix: names no setting to vary: add e.g. enable_bucketing: [true, false]"},
		// Matrix values come as a list.
		{"matrix-not-list", "testdata/invalid-matrix-not-list.yaml:9: matrix.max_num_seqs: want a list of the values to try, e.g. [true, false], got 4"},
		// A phase key in the matrix.
		{"matrix-unknown", "testdata/invalid-matrix-unknown.yaml:9: matrix.max_concurrency: unknown key here; it belongs under a load: phase"},
		// A template that gives every config the same name.
		{"matrix-duplicate", "testdata/invalid-matrix-duplicate.yaml:9: matrix.name: the template gives two configs the name \"same\": put a {key} in it for every setting the matrix varies"},
		// A generated name that an explicit config already has.
		{"matrix-config-clash", "testdata/invalid-matrix-config-clash.yaml:10: matrix: config name \"seqs4\" is already used by configs[0].name (line 9): every config needs its own name"},
		// A base problem is reported once for every config it affects.
		{"max-model-len-missing", "testdata/invalid-max-model-len-missing.yaml: base: configs a, b: max_model_len is required: the longest prompt plus output, which is also the compiled sequence length: set e.g. max_model_len: 2048 in base"},
		// Prefix caching without block_size.
		{"prefix-caching-block-size", "testdata/invalid-prefix-caching-block-size.yaml:8: base.enable_prefix_caching: config base: prefix caching needs block_size (vllm-neuron: \"When prefix caching is enabled, block_size must be set.\"): set block_size, e.g. 32"},
		// Too few KV blocks with prefix caching.
		{"block-math", "testdata/invalid-block-math.yaml:10: base.pa_num_blocks: config base: 128 blocks are too few with prefix caching: ceil(max_model_len 2048 / block_size 32) × max_num_seqs 4 = 256 (vLLM: \"At least 256 blocks are required\"): set pa_num_blocks to at least 256, or lower max_model_len or max_num_seqs"},
		// Block KV layout without prefix caching (the k_shape crash).
		{"k-shape", "testdata/invalid-k-shape.yaml:9: base.neuron_config.is_block_kv_layout: config base: block KV layout without prefix caching crashes NxDI at startup (AttributeError: 'BlockKVCacheManager' object has no attribute 'k_shape'): remove it, or set enable_prefix_caching: true (loadgen then sets both keys)"},
		// Is_prefix_caching without --enable-prefix-caching.
		{"prefix-caching-behind-back", "testdata/invalid-prefix-caching-behind-back.yaml:9: base.neuron_config.is_prefix_caching: config base: turns on prefix caching behind vLLM's back: set enable_prefix_caching: true instead (loadgen then passes --enable-prefix-caching and sets both keys)"},
		// Prefix caching with block KV layout turned off.
		{"kv-layout-off-with-apc", "testdata/invalid-kv-layout-off-with-apc.yaml:11: base.neuron_config.is_block_kv_layout: config base: prefix caching needs is_prefix_caching and is_block_kv_layout both true (the plugin asserts it), and loadgen sets them: remove is_block_kv_layout"},
		// A prompt longer than the largest bucket kills the engine.
		{"bucket-below-max-length", "testdata/invalid-bucket-below-max-length.yaml:8: base.context_encoding_buckets: config base: largest context bucket 1024 is below the longest prompt this workload sends (1500 tokens, workload.max_length): a longer prompt kills the engine on Neuron (ValueError: Input len 1500 exceeds largest bucket (1024) for context_encoding_model): end the list with 2048 (max_model_len)"},
		// Buckets above max_model_len fail NxDI's assertion.
		{"bucket-above-max-model-len", `testdata/invalid-bucket-above-max-model-len.yaml:8: base.context_encoding_buckets: config base: largest context bucket 4096 exceeds max_model_len 2048 (NxDI: AssertionError: Context bucket 4096 should be <= 2048): end the list at 2048
testdata/invalid-bucket-above-max-model-len.yaml:9: base.token_generation_buckets: config base: largest token-generation bucket 4096 exceeds max_model_len 2048 (NxDI: AssertionError: Token generation bucket 4096 should be <= 2048): end the list at 2048`},
		// Prompts plus max_tokens beyond max_model_len are refused.
		{"prompt-too-long", "testdata/invalid-prompt-too-long.yaml:7: base.max_model_len: config base: 1024 is too short for prompts of up to 1500 tokens (workload.max_length) plus max_tokens 1: vLLM rejects them with 400: raise max_model_len to at least 1501, or shorten the prompts"},
		// Sequence parallelism needs lengths divisible by TP.
		{"sequence-parallel", `testdata/invalid-sequence-parallel.yaml:7: base.max_model_len: config base: 2047 is not divisible by tensor_parallel_size 2, which sequence_parallel needs ("context length must be divisible by TP group size"): use a multiple of 2
testdata/invalid-sequence-parallel.yaml:9: base.context_encoding_buckets[0]: config base: context bucket 511 is not divisible by tensor_parallel_size 2, which sequence_parallel needs: use multiples of 2
testdata/invalid-sequence-parallel.yaml:9: base.context_encoding_buckets[1]: config base: context bucket 2047 is not divisible by tensor_parallel_size 2, which sequence_parallel needs: use multiples of 2`},
		// Token_generation_batches with prefix caching.
		// token_generation_batches first appears after NxDI 0.7 (SDK 2.28).
		{"tkg-batches-apc", "testdata/invalid-tkg-batches-apc.yaml:11: base.neuron_config.token_generation_batches: config base: is not a NeuronConfig field of NxDI 0.6.10598 (stack 2.26) or NxDI 0.7.14366 (stack 2.27): NxDI would only log \"Unexpected keyword arguments\" and run without it, so the results would not measure it"},
		// A misspelt NeuronConfig key.
		{"neuron-typo", "testdata/invalid-neuron-typo.yaml:9: base.neuron_config.fused_qvk: config base: is not a NeuronConfig field of NxDI 0.6.10598 (stack 2.26) or NxDI 0.7.14366 (stack 2.27): NxDI would only log \"Unexpected keyword arguments\" and run without it, so the results would not measure it; did you mean fused_qkv?"},
		// A NeuronConfig field of another stack, with the stack named.
		{"neuron-other-stack", "testdata/invalid-neuron-other-stack.yaml:10: base.neuron_config.windowed_context_encoding_size: config base: is not a NeuronConfig field of NxDI 0.6.10598 (stack 2.26): NxDI would only log \"Unexpected keyword arguments\" and run without it, so the results would not measure it"},
		// Listed context buckets with prefix caching and no prefix_buckets.
		{"prefix-buckets-missing", "testdata/invalid-prefix-buckets-missing.yaml:12: base.context_encoding_buckets: config base: listed context buckets with prefix caching need prefix_buckets: NxDI compiles every context bucket with every prefix length and fails at startup without them (TypeError: can only concatenate list (not \"NoneType\") to list): add prefix_buckets, e.g. [512 1024 2048]"},
		// An unknown stack.
		{"stack-unknown", "testdata/invalid-stack-unknown.yaml:4: server.stack: unknown stack \"2.99\": the supported stacks are 2.26, 2.27, or auto to detect it"},
	}
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("%d invalid-*.yaml files but %d table rows: every file needs a row", len(files), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Load("testdata/invalid-" + tc.name + ".yaml")
			if err == nil {
				t.Fatalf("Load succeeded (profile %q), want error:\n%s", p.Name, tc.want)
			}
			got := strings.ReplaceAll(err.Error(), abs, "$TESTDATA")
			if got != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, tc.want)
			}
			for _, e := range leafErrors(err) {
				var pe *Error
				if !errors.As(e, &pe) || pe.File == "" {
					t.Errorf("%v is not an *Error naming the file", e)
				}
			}
		})
	}
}

// leafErrors flattens errors.Join trees.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}
