// Package profiles reads sweep profiles: one YAML file that names the
// model, the vllm-neuron server configurations to compare, the workload and
// the load phases run against each configuration. It checks a profile
// completely before anything starts, and maps every configuration to the
// exact `vllm serve` argv and environment that vllm-neuron needs: this is
// where the tool's Neuron knowledge lives.
//
// Use:
//
//	p, err := profiles.Load("profiles/rerank.yaml") // or LoadShipped("rerank")
//	// err joins every problem as *Error: "file:line: key: message" (exit 2)
//	plan, err := p.Expand(profiles.ExpandOptions{Command: simCommand})
//	plan.DryRun(os.Stdout)                           // loadgen sweep --dry-run
//	checked, err := plan.Preflight()                 // commands, phases, dataset rows
//	for _, c := range plan.Configs { c.Server ... }  // server.Config to launch
//	checked.Dataset().Open()                         // the dataset pre-flight read
//
// Loading is strict (unknown keys, duplicate keys and wrong types are
// errors, with "did you mean" for close keys), defaults are filled in, and
// the pre-flight checks of every configuration run too, so Load alone
// reports everything that would make vLLM refuse to start or crash. Expand
// repeats the checks with the sweep's options and also returns the
// warnings: what depends on the plugin version or spoils a measurement.
// Preflight then checks what needs more than the profile: every server
// command on PATH and the dataset, read once, every row (file:line), with
// every phase against it; the Checked plan it returns holds the dataset
// read, and is what a sweep runs.
//
// A load phase, whether a profile's load: entry or the flags of `loadgen
// run`, is resolved by ResolvePhase: the phase as written (values and the
// keys written) becomes the resolved phase (defaults, derived name, rate
// inf as arrival inf, the profile's SLO merged) or every problem, keyed by
// key, in messages that name the keys the way the user wrote them
// (KeyNames).
//
// The mapping, per configuration (see the top-level README.md for every key):
//
//   - vLLM flags: the model, --served-model-name, --host, --port,
//     --tensor-parallel-size, --dtype, --max-model-len, --max-num-seqs,
//     --max-num-batched-tokens and --block-size when set,
//     --num-gpu-blocks-override always, and always one of
//     --enable-prefix-caching / --no-enable-prefix-caching (vLLM V1 turns
//     prefix caching on by default);
//   - --additional-config as one argv element, written by encoding/json
//     (keys sorted): {"override_neuron_config": {...}} with
//     on_device_sampling_config null (CPU sampling, which returns the logprobs
//     the reranker scores from) unless the profile sets it,
//     enable_bucketing, skip_warmup, pa_num_blocks, pa_block_size, the bucket
//     lists, is_prefix_caching and is_block_kv_layout only with prefix
//     caching, kv_cache_quant, sequence_parallel_enabled,
//     flash_decoding_enabled, then the free neuron_config map;
//   - environment: NEURON_COMPILED_ARTIFACTS=<root>/<config>-<hash of what
//     changes the compiled graphs>, NEURON_RT_VISIBLE_CORES from
//     server.neuron_cores, VLLM_SERVER_DEV_MODE=1 (so the sweep can POST
//     /reset_prefix_cache between phases), XLA_HANDLE_SPECIAL_SCALAR=1 with
//     kv_cache_quant, VLLM_API_KEY from server.api_key_env, then the
//     profile's env.
//
// The shipped profiles (*.yaml here) and their sample datasets (data/) are
// embedded: Shipped, ShippedNames, LoadShipped. A shipped profile's dataset
// is read from the binary through Workload.Open.
package profiles
