package server

import (
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/server/neuron"
)

// realLines are log lines as vLLM, vllm-neuron, NxDI and the Neuron
// runtime print them, with the class each must get and
// words the user-facing reason must contain.
var realLines = []struct {
	name  string
	line  string
	class schema.FailureClass // schema.FailureNone: the line must not be flagged
	fatal bool
	want  []string
}{
	// The runtime's message when another process holds the cores.
	{"cores busy", "2025-Nov-05 20:21:02.0888 2215:2215 ERROR  NRT:nrt_allocate_neuron_cores               NeuronCore(s) not available - Requested:nc0-nc1 Available:0",
		schema.FailureCoresBusy, true, []string{"NeuronCores 0-1 are held by another process", "Requested:nc0-nc1 Available:0", "set server.neuron_cores"}},
	// Newer runtimes say "Logical Neuron Core(s)" and add the errno.
	{"cores busy, logical", "2025-Nov-05 20:21:02.0888 2215:2215 ERROR  NRT:nrt_allocate_neuron_cores  Logical Neuron Core(s) not available - Requested:lnc1-lnc1 Available:0 Logical Core Size:1 (cores busy, ret=-16)",
		schema.FailureCoresBusy, true, []string{"NeuronCore 1 is held", "Requested:lnc1-lnc1 Available:0"}},
	// A device left running by a previous app.
	{"device init", "2025-Nov-05 20:21:01.0101 2215:2215 ERROR  NRT:nrt_init  Failed to initialize devices, error:5",
		schema.FailureDeviceInit, true, []string{"rmmod neuron"}},
	// Out of device memory, runtime allocator.
	{"device oom, nrt", `2025-Nov-05 20:22:10.0101 2215:2215 ERROR  NRT:nrt_tensor_allocate  status=4 message="Allocation Failure"`,
		schema.FailureDeviceOOM, true, []string{"out of Neuron device memory", "lower max_model_len"}},
	// Out of device memory, driver mempool; the numbers are kept.
	{"device oom, mempool", "2025-Nov-05 20:22:10.0101 2215:2215 ERROR  TDRV:dmem_alloc  neuron:mc_alloc: device mempool [ND 0:NC 0] needed 4294967296 bytes, available 1073741824 bytes",
		schema.FailureDeviceOOM, true, []string{"needed 4294967296 bytes"}},
	// Block KV layout without prefix caching.
	{"k_shape", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] AttributeError: 'BlockKVCacheManager' object has no attribute 'k_shape'",
		schema.FailureKShape, true, []string{"is_block_kv_layout", "is_prefix_caching", "--enable-prefix-caching"}},
	// APC on by default and no --block-size.
	{"block size missing", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] AssertionError: When prefix caching is enabled, block_size must be set.",
		schema.FailureBlockMath, true, []string{"--block-size", "--no-enable-prefix-caching"}},
	// Too few blocks for max_model_len × max_num_seqs.
	{"too few blocks", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] ValueError: At least 64 blocks are required for max_model_len 2048 and max_num_seqs 4",
		schema.FailureBlockMath, true, []string{"at least 64", "--num-gpu-blocks-override"}},
	// pa_num_blocks disagrees with the flag.
	{"pa_num_blocks mismatch", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] ValueError: pa_num_blocks (256) must match your --num-gpu-blocks-override intent(16)",
		schema.FailureBlockMath, true, []string{"(256)", "(16)"}},
	// pa_num_blocks without the flag.
	{"pa_num_blocks alone", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] ValueError: When setting pa_num_blocks (512) in override_neuron_config, you must also set --num-gpu-blocks-override to the same value to ensure vLLM and NxDI have consistent block counts.",
		schema.FailureBlockMath, true, []string{"without --num-gpu-blocks-override"}},
	// A prompt longer than the largest CTE bucket kills the engine.
	{"bucket exceeded", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:30:12 [core.py:710] ValueError: Input len 3000 exceeds largest bucket (2048) for context_encoding_model",
		schema.FailureBucketExceeded, true, []string{"3000 tokens", "bucket (2048)"}},
	// A failed compile is cached.
	{"cached failed neff", "2025-11-05 20:21:30.000212:  2258  INFO ||NEURON_CACHE||: Got a cached failed neff at /var/tmp/neuron-compile-cache/neuronxcc-2.21.18209.0/MODULE_5281e7a4+a9d440f5/model.neff. Will skip compilation.",
		schema.FailureCachedFailedNEF, true, []string{"MODULE_5281e7a4+a9d440f5/model.neff)", "--retry_failed_compilation"}},
	// uvicorn could not bind.
	{"address in use", "(APIServer pid=2200) OSError: [Errno 98] Address already in use",
		schema.FailureAddressInUse, true, []string{"Address already in use", "server.port"}},
	// asyncio's wording of the same error.
	{"address in use, asyncio", "OSError: [Errno 98] error while attempting to bind on address ('127.0.0.1', 8000): address already in use",
		schema.FailureAddressInUse, true, []string{"[Errno 98]"}},
	// Hub ID plus tied embeddings.
	{"meta tensor", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] NotImplementedError: Cannot copy out of meta tensor; no data!",
		schema.FailureMetaTensor, true, []string{"local model directory"}},
	// TP larger than the cores present.
	{"c10 abort", "terminate called after throwing an instance of 'c10::Error'",
		schema.FailureRuntimeAbort, true, []string{"tensor_parallel_size"}},
	// An architecture NxDI lacks.
	{"unsupported model", "ValueError: Model Qwen3ForSequenceClassification is not supported on Neuron for now. Supported models: ['llama', 'qwen3']",
		schema.FailureUnsupportedModel, true, []string{"Qwen3ForSequenceClassification"}},
	// argparse after --device was removed.
	{"unrecognized --device", "vllm serve: error: unrecognized arguments: --device neuron",
		schema.FailureBadArguments, true, []string{"unrecognized arguments: --device neuron", "removed in vLLM 0.10"}},
	// argparse rejecting a value.
	{"invalid choice", "vllm serve: error: argument --block-size: invalid choice: 7 (choose from 1, 8, 16, 32, 64, 128)",
		schema.FailureBadArguments, true, []string{"argument --block-size: invalid choice: 7", "fix the server flags"}},
	// pydantic rejecting an engine setting.
	{"validation error", "pydantic_core._pydantic_core.ValidationError: 1 validation error for CacheConfig",
		schema.FailureBadArguments, true, []string{"CacheConfig"}},
	// The generic engine failure; the root cause is above it.
	{"engine core failed", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] EngineCore failed to start.",
		schema.FailureEngineCore, true, []string{"above \"EngineCore failed to start\""}},
	// The API server's wording of the same.
	{"engine core init failed", "(APIServer pid=2200) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
		schema.FailureEngineCore, true, []string{"engine core failed to start"}},
	// An engine that died while serving (the simulator's crash logs it too).
	{"engine died", "(EngineCore_DP0 pid=2215) ERROR 11-05 20:31:40 [core.py:710] EngineCore encountered a fatal error.",
		schema.FailureEngineCore, true, []string{"died while serving", "traceback after"}},
	// What the API server and every later request then say.
	{"engine dead error", "(APIServer pid=2200) vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.",
		schema.FailureEngineCore, true, []string{"died while serving"}},
	// A typo in override_neuron_config (testContext wrote it): NxDI only warns.
	{"unexpected keyword", "(EngineCore_DP0 pid=2215) WARNING:root:NeuronConfig init: Unexpected keyword arguments: {'enable_buckting': True}",
		schema.FailureInvalidConfig, false, []string{"enable_buckting (did you mean enable_bucketing?)", "fix it in neuron_config"}},
	// Reused artifacts: the override was not applied (the sweep decides
	// whether that voids the run).
	{"override ignored", "WARNING:vllm_neuron.worker.neuronx_distributed_model_loader:Using pre-compiled artifacts, override_neuron_config will be ignored",
		schema.NoteArtifactsReused, false, []string{"override_neuron_config was ignored", "own artifacts directory"}},
	// A hyphenated key is dropped silently.
	{"hyphenated override key", "INFO:vllm_neuron.worker.neuronx_distributed_model_loader:No neuron overrides are passed via additional_config: {'override-neuron-config': {'enable_bucketing': True}}. Proceeding with defaults.",
		schema.FailureInvalidConfig, false, []string{"'override-neuron-config'", "defaults"}},
	// No additional_config at all is a deliberate choice.
	{"no overrides at all", "INFO:vllm_neuron.worker.neuronx_distributed_model_loader:No neuron overrides are passed via additional_config: {}. Proceeding with defaults.",
		schema.FailureNone, false, nil},
	// The echo of the override is not a finding.
	{"override echo", "INFO:vllm_neuron.worker.neuronx_distributed_model_loader:Retrieved override_neuron_config from additional_config: {'skip_warmup': False}",
		schema.FailureNone, false, nil},
	// Normal progress lines are not findings.
	{"startup complete", "(APIServer pid=2200) INFO:     Application startup complete.",
		schema.FailureNone, false, nil},
}

// testContext is the default stack with a profile that wrote the typo of
// "unexpected keyword".
var testContext = logContext{stack: neuron.Default(), written: map[string]bool{"enable_buckting": true}}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range realLines {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ok := classify(tc.line, testContext)
			if tc.class == schema.FailureNone {
				if ok {
					t.Fatalf("classify(%q) = %+v, want no finding", tc.line, f)
				}
				return
			}
			if !ok {
				t.Fatalf("classify(%q): no finding, want %s", tc.line, tc.class)
			}
			if f.Class != tc.class || f.Fatal != tc.fatal {
				t.Errorf("class, fatal = %s, %t, want %s, %t", f.Class, f.Fatal, tc.class, tc.fatal)
			}
			if f.Line != tc.line {
				t.Errorf("line = %q, want the log line", f.Line)
			}
			contains(t, "message", f.Message, tc.want...)
			if strings.Contains(f.Message, "\n") {
				t.Errorf("message %q spans lines", f.Message)
			}
		})
	}
}

func TestLogWatch_rootCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  schema.FailureClass
	}{
		// The generic line follows the real cause, as vLLM logs it.
		{"cause then generic", []string{realLine(t, "cores busy"), realLine(t, "engine core failed"), realLine(t, "engine core init failed")}, schema.FailureCoresBusy},
		// Buffered stderr may put the generic line first; the cause still wins.
		{"generic then cause", []string{realLine(t, "engine core failed"), realLine(t, "k_shape")}, schema.FailureKShape},
		// A mid-run death: the exception in the traceback is the cause.
		{"died of a bucket overflow", []string{realLine(t, "engine died"), realLine(t, "bucket exceeded"), realLine(t, "engine dead error")}, schema.FailureBucketExceeded},
		// Only the generic line: that is all we know.
		{"generic only", []string{realLine(t, "engine core failed")}, schema.FailureEngineCore},
		// The first specific cause wins over later consequences.
		{"two causes", []string{realLine(t, "device oom, nrt"), realLine(t, "c10 abort")}, schema.FailureDeviceOOM},
		// Warnings are not causes.
		{"warning only", []string{realLine(t, "override ignored")}, schema.FailureNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
			for _, l := range tc.lines {
				w.Write([]byte(l + "\n"))
			}
			got, _ := w.cause()
			if got.Class != tc.want {
				t.Errorf("cause = %q, want %q", got.Class, tc.want)
			}
		})
	}
}

// realLine returns the realLines entry called name.
func realLine(t *testing.T, name string) string {
	t.Helper()
	for _, r := range realLines {
		if r.name == name {
			return r.line
		}
	}
	t.Fatalf("no real line %q", name)
	return ""
}
