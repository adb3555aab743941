package schema

import "time"

// FailureClass names why a server failed to start or died, as recognised
// from its log and exit status. The empty class means no failure.
type FailureClass string

// Failure classes. Each is recognised from a known log line (server's
// log rules) or from how the process ended.
const (
	FailureNone            FailureClass = ""
	FailureCoresBusy       FailureClass = "cores_busy"         // NeuronCore(s) not available
	FailureDeviceOOM       FailureClass = "device_oom"         // nrt_tensor_allocate / mc_alloc failure
	FailureKShape          FailureClass = "k_shape"            // is_block_kv_layout without prefix caching
	FailureEngineCore      FailureClass = "engine_core_failed" // EngineCore failed to start
	FailureBadArguments    FailureClass = "bad_arguments"      // argparse error, unrecognized arguments
	FailureBlockMath       FailureClass = "block_math"         // num_gpu_blocks_override / block_size errors
	FailureBucketExceeded  FailureClass = "bucket_exceeded"    // Input len N exceeds largest bucket
	FailureCachedFailedNEF FailureClass = "cached_failed_neff"
	FailureAddressInUse    FailureClass = "address_in_use"    // port taken (pre-flight or log)
	FailureCommandNotFound FailureClass = "command_not_found" // Argv[0] not in PATH
	FailureReadyTimeout    FailureClass = "ready_timeout"     // never became ready in time
	FailureExited          FailureClass = "exited"            // exited with no recognised cause
	FailureCrashed         FailureClass = "crashed_mid_run"   // died after it was ready
	FailureModelMissing    FailureClass = "model_not_listed"  // /v1/models lacks the served model
	FailureInvalidConfig   FailureClass = "invalid_config"    // started, but a warning voids the run
	FailureInterrupted     FailureClass = "interrupted"       // the user stopped loadgen

	// Further causes the log watch recognises.
	FailureDeviceInit       FailureClass = "device_init_failed" // Failed to initialize devices / TDRV not initialized
	FailureMetaTensor       FailureClass = "meta_tensor"        // Cannot copy out of meta tensor (Hub ID + tied embeddings)
	FailureRuntimeAbort     FailureClass = "runtime_abort"      // terminate … c10::Error (TP larger than the cores)
	FailureUnsupportedModel FailureClass = "unsupported_model"  // Model … is not supported on Neuron
	FailureBucketConfig     FailureClass = "bucket_config"      // a bucket list NxDI cannot build (prefix_buckets missing, bucket above max)

	// NoteNeuronConfig and WarningNeuronConfig are not failures: NxDI's
	// "Unexpected keyword arguments" listed keys it applies anyway (late
	// pops) or its own derived attributes (reuse of compiled artifacts) —
	// a note — or keys of unknown origin the profile did not write — a
	// warning. Neither voids the run; a key the profile wrote that NxDI
	// ignored is FailureInvalidConfig.
	NoteNeuronConfig    FailureClass = "neuron_config_note"
	WarningNeuronConfig FailureClass = "neuron_config_unknown_key"
	// NoteArtifactsReused is vllm-neuron's "Using pre-compiled artifacts,
	// override_neuron_config will be ignored", which it logs on every start
	// that reuses compiled artifacts and passes overrides. The sweep voids
	// the run (FailureInvalidConfig) unless it recorded those artifacts for
	// this very configuration.
	NoteArtifactsReused FailureClass = "artifacts_reused"

	// WarningNoWatchdog is not a failure of the server: loadgen could not
	// start the watchdog that kills the server if loadgen dies (watchdog.go).
	// The run stays valid; its Startup.Findings carry it as a non-fatal finding.
	WarningNoWatchdog FailureClass = "no_watchdog"
)

// IsNote reports whether findings of class c are informational: they put
// no number in doubt (NoteNeuronConfig, NoteArtifactsReused; the sweep
// records in the manifest when a reuse voided the run).
func (c FailureClass) IsNote() bool { return c == NoteNeuronConfig || c == NoteArtifactsReused }

// StartupPhase is one recognised step of server startup (loading,
// generating HLO, compiling, loading weights, warmup, ready) with when it
// began and how long it lasted (until the next phase began).
type StartupPhase struct {
	Name    string    `json:"name"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
}

// LogFinding is one notable log line: a fatal cause or a warning that makes
// the run invalid even though the server starts.
type LogFinding struct {
	Class   FailureClass `json:"class"`
	Fatal   bool         `json:"fatal"`
	Line    string       `json:"line"`
	Message string       `json:"message"` // what it means and what to do, one line
}

// Startup is the record written to <config>/startup.json.
type Startup struct {
	SchemaVersion int       `json:"schema_version"`
	Config        string    `json:"config"`
	Remote        bool      `json:"remote"`
	URL           string    `json:"url"`
	PID           int       `json:"pid,omitempty"`
	Started       time.Time `json:"started"`
	Ready         bool      `json:"ready"`
	// ReadySeconds is the time from launch to ready (0 if never ready).
	ReadySeconds float64        `json:"ready_seconds"`
	Phases       []StartupPhase `json:"phases"`
	// CompiledArtifacts is "hit", "miss" or "" when the log does not say.
	CompiledArtifacts string `json:"compiled_artifacts,omitempty"`
	// ExitCode is set once the server has exited (-1 when a signal ended it).
	ExitCode *int `json:"exit_code,omitempty"`
	// Signal names the signal that ended the server ("killed"), if one did.
	Signal       string       `json:"signal,omitempty"`
	FailureClass FailureClass `json:"failure_class,omitempty"`
	// Reason is the one line a user sees when the server failed: what
	// happened and what to do, without the class prefix (Error adds it).
	Reason    string       `json:"reason,omitempty"`
	Findings  []LogFinding `json:"findings,omitempty"`
	LastLines []string     `json:"last_lines,omitempty"`
	// Version is what GET /version answered, when it did.
	Version string `json:"version,omitempty"`
	// Simulated is set by the caller when the server was loadgen's
	// simulator (every output of a simulated run says so).
	Simulated bool `json:"simulated,omitempty"`
}

// StartupSchemaVersion is the current Startup.SchemaVersion.
const StartupSchemaVersion = 1
