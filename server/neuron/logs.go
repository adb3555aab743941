package neuron

// Log lines and exception texts of the stack, as the simulator writes them
// and the log classifier recognises them. Format verbs stand where upstream
// interpolates a value. Unless noted, the text is identical in every
// supported stack.
//
// How they render: vLLM's own loggers use "LEVEL MM-DD HH:MM:SS
// [file.py:N] msg" (vLLM v0.11.0 vllm/logger.py L25–27); NxDI, NxD and the
// plugin log through Python's root handler, "LEVEL:logger:msg"; every line
// of the engine process is prefixed "(EngineCore_DP0 pid=N) " (vllm/utils/
// __init__.py L3453–3500, with ANSI colour codes around the prefix).

// Logger names.
const (
	// LoggerRoot: NxDI's models/config.py logs through the root logger
	// (module-level logging.warning; no getLogger in that file).
	LoggerRoot = "root"
	// LoggerNeuron: NxDI application_base.py and NxD's model_builder.py
	// (real log: "INFO:Neuron:Generating HLOs …", vllm-neuron
	// test/vllm_server_out.txt @6d90f47).
	LoggerNeuron = "Neuron"
	// LoggerPlatform, LoggerLoader and LoggerRunner are the plugin's
	// logging.getLogger(__name__) loggers.
	LoggerPlatform = "vllm_neuron.platform"
	LoggerLoader   = "vllm_neuron.worker.neuronx_distributed_model_loader"
	LoggerRunner   = "vllm_neuron.worker.neuronx_distributed_model_runner"
)

// NxDI NeuronConfig (models/config.py).
const (
	// MsgUnexpectedKwargs is followed by the Python dict repr of the keys
	// NeuronConfig.__init__ did not pop before the check (WARNING, root).
	// source: NxDI v0.6.10598 models/config.py L470–471 (logging.warn),
	// v0.7.14366 L562–563 (logging.warning).
	MsgUnexpectedKwargs = "NeuronConfig init: Unexpected keyword arguments: "
	// MsgContextBucketAssert and MsgTKGBucketAssert are the NeuronConfig
	// assertions on explicit bucket lists (%d largest bucket, %d limit).
	// source: NxDI v0.6.10598 models/config.py L191–207.
	MsgContextBucketAssert = "Context bucket %d should be <= %d"
	MsgTKGBucketAssert     = "Token generation bucket %d should be <= %d"
)

// NxDI bucketing errors (models/model_wrapper.py; autobucketing.py).
const (
	// TagCTE is the context-encoding model's tag in bucket errors.
	// source: NxDI v0.6.10598 models/model_wrapper.py L28–32.
	TagCTE = "context_encoding_model"
	// MsgInputLenExceeds: 1-D, a prompt longer than the largest bucket
	// (ValueError). source: model_wrapper.py v0.6.10598 L1013–1015,
	// v0.7.14366 L1039–1040.
	MsgInputLenExceeds = "Input len %d exceeds largest bucket (%d) for %s"
	// MsgPrefillLenExceeds and MsgPrefixLenExceeds: 2-D (prefix caching);
	// the values are torch tensor elements. source: model_wrapper.py
	// v0.7.14366 L1141–1144 (ValueError), L1163 (assert).
	MsgPrefillLenExceeds = "Prefill len %s exceeds largest bucket (%s) for %s"
	MsgPrefixLenExceeds  = "Prefix len %s exceeds largest bucket %s for %s"
	// MsgPrefixBucketsTypeError: explicit context_encoding_buckets with
	// prefix caching and no prefix_buckets; NxDI computes [0] + None.
	// source: NxDI v0.7.14366 modules/autobucketing.py L56 (CPython's
	// message for list + None; raised in EngineCore at startup).
	MsgPrefixBucketsTypeError = `TypeError: can only concatenate list (not "NoneType") to list`
	// MsgKShape: a block KV layout without prefix caching or chunked
	// prefill; BlockKVCacheManager never sets k_shape.
	// source: NxDI modules/kvcache/block_kv_cache_manager.py L40–47 and
	// kv_cache_manager.py L149 (v0.6.10598) / L156 (v0.7.14366); the wording
	// is torch.nn.Module.__getattr__'s (DERIVED, not observed).
	MsgKShape = "'BlockKVCacheManager' object has no attribute 'k_shape'"
)

// NxDI and NxD startup progress (logger Neuron).
const (
	// source: NxDI v0.6.10598 application_base.py L270 (v0.7.14366 L300).
	MsgSavingNeuronConfig = "Saving the neuron_config to "
	// source: aws-neuron/neuronx-distributed v2.26.0
	// src/neuronx_distributed/trace/model_builder.py L1407, L1433, L1454,
	// L1486, L1489, L1532, L1562, L1614, L1637 (v2.27.0: L549, L575, L600,
	// L632, L635, L678, L708, L760, L783). Note the capital C in "Finished
	// Compilation"; "Started compilation" belongs to the older
	// trace/functions.py path, not NxDI's.
	MsgGeneratingHLOs         = "Generating HLOs for the following models: "
	MsgGeneratingHLOsFor      = "Generating %d hlos for key: %s"
	MsgGeneratedAllHLOs       = "Generated all HLOs in %s seconds"
	MsgPriorityCompile        = "Starting compilation for the priority HLO"
	MsgPriorityModel          = "'%s' is the priority model with bucket rank %d"
	MsgPriorityCompileDone    = "Done compilation for the priority HLO in %s seconds"
	MsgAllCompile             = "Starting compilation for all HLOs"
	MsgFinishedAllCompilation = "Finished Compilation for all HLOs in %s seconds"
	MsgFinishedBuilding       = "Finished building model in %s seconds"
	// source: NxDI v0.6.10598 application_base.py L229–231, L370, L375,
	// L320, L342, L312 (v0.7.14366: L250, L404, L419, L350, L372, L342).
	MsgSkipPresharding = "SKIPPING pre-sharding the checkpoints. The checkpoints will be sharded during load time."
	MsgShardingOnLoad  = "Sharding weights on load..."
	MsgWeightsLoaded   = "Finished weights loading in %s seconds"
	MsgWarmingUp       = "Warming up the model."
	MsgWarmupDone      = "Warmup completed in %s seconds."
	MsgSkippingWarmup  = "Skipping model warmup"
	// MsgCompilerCmd is libneuronxla's compiler wrapper (closed source;
	// text from the real log, vllm-neuron test/vllm_server_out.txt @6d90f47).
	MsgCompilerCmd = "Call compiler with cmd: neuronx-cc"
	// MsgCachedFailedNEFF: a compile failure cached by the compiler
	// wrapper (Neuron docs; older prefix ||NCC_WRAPPER||).
	MsgCachedFailedNEFF = "Got a cached failed neff at "
)

// vllm-neuron plugin (0.2.0 line numbers; 0.2.2+lts noted where it differs).
const (
	// source: platform.py L189–193.
	MsgForcedBatchedTokens = "Neuron custom scheduler default: max_num_batched_tokens set to %d. Override with --max-num-batched-tokens if needed."
	// source: platform.py L177–180.
	MsgCustomScheduler = "The custom Neuron scheduler will disable chunked prefill and schedule requests using the continuous batching mechanism, prioritizing prefill over decode."
	// source: platform.py L153–157.
	MsgNullBlock = "Adding 1 to num_gpu_blocks_override (%d -> %d) to account for null block allocation"
	// MsgPrefixBlockSize is an assertion message (AssertionError: …) in
	// the API server process. source: platform.py L209–210.
	MsgPrefixBlockSize = "When prefix caching is enabled, block_size must be set."
	// source: worker/neuronx_distributed_model_loader.py L692–698
	// (0.2.2+lts L694, L698).
	MsgRetrievedOverrides = "Retrieved override_neuron_config from additional_config: "
	MsgNoOverrides        = "No neuron overrides are passed via additional_config: "
	// source: loader L190–193: the exception, then this (WARNING).
	MsgArtifactsMiss = "Unable to find precompiled artifacts from %s. Recompiling..."
	// source: loader L219–220 (INFO) and L222–226 (WARNING, only when
	// override_neuron_config is not empty).
	MsgArtifactsHit        = "Successfully loaded pre-compiled model artifacts from %s"
	MsgOverridesIgnored    = "Using pre-compiled artifacts, override_neuron_config will be ignored"
	MsgPANumBlocksIncrease = "User provided pa_num_blocks (%d) matching original --num-gpu-blocks-override intent. Incrementing pa_num_blocks to %d to match the increment for a null block in vllm."
	// Block-math errors. source: loader L818–820 (ValueError), L828–829
	// (ValueError), L858–859 (AssertionError).
	MsgPANumBlocksMismatch = "pa_num_blocks (%d) must match your --num-gpu-blocks-override intent(%d) to ensure vLLM and NxDI have consistent block counts. "
	MsgPANumBlocksAlone    = "When setting pa_num_blocks (%d) in override_neuron_config, you must also set --num-gpu-blocks-override to the same value to ensure vLLM and NxDI have consistent block counts."
	MsgMinBlocks           = "At least %d blocks are required for max_model_len %d, but only %d blocks are available (user-intended blocks, excluding the +1 for null block)"
	// source: worker/neuronx_distributed_model_runner.py L213–217, L228–232.
	MsgHardwareSampling = "Hardware sampling enabled: config=%s"
	MsgCPUSampling      = "CPU sampling enabled: on_device_sampling_config is None. All sampling will be performed on CPU using vLLM's standard sampler."
)

// vLLM 0.11.0 (vllm-project/vllm v0.11.0).
const (
	// MsgServerVersion: vllm/entrypoints/openai/api_server.py L1818.
	MsgServerVersion = "vLLM API server version %s"
	// MsgLogprobIndexError is the error message of a request that asked
	// for logprobs while the plugin samples on device: the plugin returns
	// logprobs_tensors=None, vLLM keeps logprobs == [] and
	// _create_completion_logprobs indexes it (serving_completion.py L625).
	// Non-streamed: HTTP 500 {"error": {"message": MsgLogprobIndexError,
	// "type": "Internal Server Error", …}} (api_server.py L648–655,
	// L1512–1518); streamed: an error event of type "BadRequestError",
	// code 400, then [DONE] (serving_completion.py L490–494,
	// serving_engine.py L454–464). DERIVED from code, not run on hardware.
	MsgLogprobIndexError = "list index out of range"
	// MsgEngineFailed and MsgEngineInitFailed: an engine that died at
	// startup. source: vllm/v1/engine/core.py L708; v1/engine/utils.py
	// L785–787.
	MsgEngineFailed     = "EngineCore failed to start."
	MsgEngineInitFailed = "Engine core initialization failed. See root cause above. Failed core proc(s): %s"
	// MsgEngineFatal and MsgEngineDead: an engine that died while it
	// served. The engine process logs MsgEngineFatal with the traceback of
	// the exception that killed it (vllm/v1/engine/core.py L710, L1232);
	// every request in flight and after then fails with EngineDeadError,
	// whose text is MsgEngineDead (vllm/v1/engine/exceptions.py L12).
	// source: vllm-project/vllm v0.11.0.
	MsgEngineFatal = "EngineCore encountered a fatal error."
	MsgEngineDead  = "EngineCore encountered an issue. See stack trace (above) for the root cause."
)

// Neuron runtime (libnrt, closed source). UNVERIFIED against source: texts
// from the Neuron docs (nrt-troubleshoot) and aws-neuron-sdk issue #1014.
const (
	MsgCoresBusy = "NeuronCore(s) not available - Requested:%s Available:0"
)
