package server

import (
	"loadgen/loadgen/schema"

	"fmt"
	"regexp"
	"strings"
)

// This file is the one place that knows what vLLM and vllm-neuron write to
// their log: fatal causes, warnings that void a run, compiled-artifact cache markers and startup phases. Every row is
// tested against a real log line in logrules_test.go.

// logRule recognises one fatal or suspicious log line.
type logRule struct {
	class schema.FailureClass
	// fatal rules name why the server cannot run; the others are warnings
	// that leave it running but make the measurement meaningless.
	fatal bool
	// keys are literals of which a matching line holds at least one; the
	// regular expression only runs on lines that have one (regexp is slow,
	// and a busy server logs a line per request).
	keys []string
	re   *regexp.Regexp
	// message renders the one-line reason (what happened, what to do) from
	// the submatches of re.
	message func(m []string) string
}

// fixed returns a message func that ignores the submatches.
func fixed(s string) func([]string) string { return func([]string) string { return s } }

// logRules is checked in order for every log line; the first match wins.
var logRules = []logRule{
	{
		class: schema.FailureCoresBusy, fatal: true,
		keys: []string{"Core(s) not available", "cores busy"},
		re:   regexp.MustCompile(`Neuron ?Core\(s\) not available(?:.*?Requested:\s*(\S+))?(?:.*?Available:\s*(\d+))?|cores busy, ret=-16`),
		message: func(m []string) string {
			held, nrt := "the requested NeuronCores are", "cores busy"
			if m[1] != "" {
				cores := coreRange(m[1])
				held = "NeuronCores " + cores + " are"
				if !strings.ContainsAny(cores, "-,") {
					held = "NeuronCore " + cores + " is"
				}
				nrt = "Requested:" + m[1] + " Available:" + or(m[2], "0")
			}
			return fmt.Sprintf("%s held by another process (NRT %s); stop it (neuron-ls shows the PID) or set server.neuron_cores", held, nrt)
		},
	},
	{
		class: schema.FailureDeviceInit, fatal: true,
		keys:    []string{"Failed to initialize devices", "TDRV not initialized"},
		re:      regexp.MustCompile(`Failed to initialize devices, error:\s*(\d+)|TDRV not initialized`),
		message: fixed("the Neuron device was left in a bad state by a previous process (TDRV not initialized); reload the driver: sudo rmmod neuron && sudo modprobe neuron"),
	},
	{
		class: schema.FailureDeviceOOM, fatal: true,
		keys: []string{"nrt_tensor_allocate", "mc_alloc"},
		re:   regexp.MustCompile(`nrt_tensor_allocate.*(?:status=4|Allocation Failure)|mc_alloc: device mempool(.*)`),
		message: func(m []string) string {
			detail := "nrt_tensor_allocate: Allocation Failure"
			if d := strings.TrimSpace(m[1]); d != "" {
				detail = "device mempool " + clip(d, 80)
			}
			return fmt.Sprintf("out of Neuron device memory (%s); lower max_model_len, max_num_seqs or the context buckets, or raise tensor_parallel_size", detail)
		},
	},
	{
		class: schema.FailureKShape, fatal: true,
		keys:    []string{"k_shape"},
		re:      regexp.MustCompile(`'BlockKVCacheManager' object has no attribute 'k_shape'`),
		message: fixed("is_block_kv_layout is on without is_prefix_caching ('BlockKVCacheManager' has no k_shape); set both together with --enable-prefix-caching, or neither"),
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys:    []string{"block_size must be set"},
		re:      regexp.MustCompile(`When prefix caching is enabled, block_size must be set`),
		message: fixed("prefix caching is on (vLLM's default) but --block-size is missing; pass --no-enable-prefix-caching, or --enable-prefix-caching with --block-size and --num-gpu-blocks-override"),
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys: []string{"blocks are required"},
		re:   regexp.MustCompile(`At least (\d+) blocks are required for max_model_len(?: \(?(\d+)\)?)?`),
		message: func(m []string) string {
			return fmt.Sprintf("too few KV blocks: at least %s are needed for max_model_len; raise --num-gpu-blocks-override to ceil(max_model_len/block_size)*max_num_seqs", m[1])
		},
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys: []string{"must match your --num-gpu-blocks-override"},
		re:   regexp.MustCompile(`pa_num_blocks \((\d+)\) must match your --num-gpu-blocks-override intent\s*\((\d+)\)`),
		message: func(m []string) string {
			return fmt.Sprintf("override_neuron_config.pa_num_blocks (%s) differs from --num-gpu-blocks-override (%s); drop pa_num_blocks or make them equal", m[1], m[2])
		},
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys:    []string{"you must also set --num-gpu-blocks-override"},
		re:      regexp.MustCompile(`When setting pa_num_blocks.*you must also set --num-gpu-blocks-override`),
		message: fixed("override_neuron_config.pa_num_blocks is set without --num-gpu-blocks-override; pass the flag with the same value"),
	},
	{
		class: schema.FailureBucketExceeded, fatal: true,
		keys: []string{"exceeds largest bucket"},
		re:   regexp.MustCompile(`Input len (\d+) exceeds largest bucket \((\d+)\)(?: for (\w+))?`),
		message: func(m []string) string {
			return fmt.Sprintf("a prompt of %s tokens exceeds the largest context-encoding bucket (%s) and killed the engine; make the largest context_encoding_bucket equal max_model_len, or cap prompt length", m[1], m[2])
		},
	},
	{
		class: schema.FailureCachedFailedNEF, fatal: true,
		keys: []string{"cached failed neff"},
		re:   regexp.MustCompile(`Got a cached failed neff at (\S+)`),
		message: func(m []string) string {
			return fmt.Sprintf("an earlier compile failed and its failure is cached (%s); set NEURON_CC_FLAGS=--retry_failed_compilation or delete that MODULE directory", clip(strings.TrimRight(m[1], ".,"), 120))
		},
	},
	{
		class: schema.FailureAddressInUse, fatal: true,
		keys:    []string{"[Errno 98]"},
		re:      regexp.MustCompile(`\[Errno 98\].*[Aa]ddress already in use`),
		message: fixed("the server could not bind its port ([Errno 98] Address already in use); stop whatever listens there or choose another server.port"),
	},
	{
		class: schema.FailureMetaTensor, fatal: true,
		keys:    []string{"meta tensor"},
		re:      regexp.MustCompile(`Cannot copy out of meta tensor`),
		message: fixed("the model was given as a Hub ID and its tied embeddings cannot be sharded on load (meta tensor); serve a local model directory"),
	},
	{
		class: schema.FailureRuntimeAbort, fatal: true,
		keys:    []string{"c10::Error"},
		re:      regexp.MustCompile(`terminate called after throwing an instance of 'c10::Error'`),
		message: fixed("the Neuron runtime aborted (c10::Error), usually because tensor_parallel_size exceeds the NeuronCores available; lower it or check NEURON_RT_VISIBLE_CORES"),
	},
	{
		class: schema.FailureUnsupportedModel, fatal: true,
		keys: []string{"is not supported on Neuron"},
		re:   regexp.MustCompile(`Model (\S+) is not supported on Neuron`),
		message: func(m []string) string {
			return fmt.Sprintf("NxDI does not support the architecture %s; serve a model whose architecture vllm-neuron lists", m[1])
		},
	},
	{
		class: schema.FailureBadArguments, fatal: true,
		keys: []string{": error: "},
		re:   regexp.MustCompile(`: error: ((?:unrecognized arguments|argument |the following arguments are required|invalid choice).*)`),
		message: func(m []string) string {
			hint := "fix the server flags in the profile"
			if strings.Contains(m[1], "--device") {
				hint = "--device was removed in vLLM 0.10; drop it from the server flags"
			}
			return fmt.Sprintf("vLLM rejected its command line (%s); %s", clip(m[1], 120), hint)
		},
	},
	{
		class: schema.FailureBadArguments, fatal: true,
		keys: []string{"ValidationError"},
		re:   regexp.MustCompile(`ValidationError: \d+ validation errors? for (\w+)`),
		message: func(m []string) string {
			return fmt.Sprintf("vLLM rejected a setting of %s (validation error; the lines after it in server.log name the field); fix the server flags in the profile", m[1])
		},
	},
	{
		class: schema.FailureEngineCore, fatal: true,
		keys:    []string{"EngineCore failed to start", "Engine core initialization failed"},
		re:      regexp.MustCompile(`EngineCore failed to start|Engine core initialization failed`),
		message: fixed("the engine core failed to start and the log names no cause loadgen knows; read the lines above \"EngineCore failed to start\" in server.log"),
	},
	{
		class: schema.FailureInvalidConfig,
		keys:  []string{"Unexpected keyword arguments"},
		re:    regexp.MustCompile(`NeuronConfig init: Unexpected keyword arguments:\s*(.*)`),
		message: func(m []string) string {
			return fmt.Sprintf("override_neuron_config has keys NxDI does not know (%s); they were ignored, so this run does not measure the intended config: fix the typo", clip(m[1], 120))
		},
	},
	{
		class:   schema.FailureInvalidConfig,
		keys:    []string{"override_neuron_config will be ignored"},
		re:      regexp.MustCompile(`override_neuron_config will be ignored`),
		message: fixed("compiled artifacts were reused from NEURON_COMPILED_ARTIFACTS, so override_neuron_config was ignored and this run does not measure the intended config; give each config its own artifacts directory or delete the stale one"),
	},
	{
		class: schema.FailureInvalidConfig,
		keys:  []string{"No neuron overrides are passed"},
		re:    regexp.MustCompile(`No neuron overrides are passed via additional_config:\s*(\{[^}\s].*\})`),
		message: func(m []string) string {
			return fmt.Sprintf("additional_config has no override_neuron_config key (%s; a hyphenated key is dropped), so vllm-neuron ran with its defaults", clip(m[1], 120))
		},
	},
}

// artifactRules recognise the compiled-artifacts cache outcome.
var artifactRules = []struct {
	outcome string
	markers []string
}{
	{"miss", []string{"Unable to find precompiled artifacts from"}},
	{"hit", []string{"Successfully loaded pre-compiled model artifacts", "Using pre-compiled artifacts"}},
}

// Startup phase names, in the order a server goes through them.
const (
	PhaseLoading        = "loading"
	PhaseGeneratingHLO  = "generating_hlo"
	PhaseCompiling      = "compiling"
	PhaseLoadingWeights = "loading_weights"
	PhaseWarmup         = "warmup"
	PhaseReady          = "ready"
)

// phaseRules mark the start of a startup phase. A server starts in
// PhaseLoading; phases only move forward (a late marker of an earlier phase
// is ignored), and may be skipped (a cache hit skips compiling).
var phaseRules = []struct {
	phase   string
	markers []string
}{
	{PhaseGeneratingHLO, []string{"Generating HLOs for the following models"}},
	{PhaseCompiling, []string{"Starting compilation for the priority HLO", "Starting compilation for all HLOs", "Call compiler with cmd: neuronx-cc"}},
	{PhaseLoadingWeights, []string{"Finished building model in", "Successfully loaded pre-compiled model artifacts", "Sharding weights on load", "Loading pre-sharded checkpoints"}},
	{PhaseWarmup, []string{"Warming up the model"}},
	{PhaseReady, []string{"Application startup complete"}},
}

// phaseOrder ranks the phases; see phaseRules.
var phaseOrder = map[string]int{
	PhaseLoading: 0, PhaseGeneratingHLO: 1, PhaseCompiling: 2,
	PhaseLoadingWeights: 3, PhaseWarmup: 4, PhaseReady: 5,
}

// classify returns the finding for one log line, if the line is notable.
func classify(line string) (schema.LogFinding, bool) {
	for _, r := range logRules {
		if !containsAny(line, r.keys) {
			continue
		}
		m := r.re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		return schema.LogFinding{Class: r.class, Fatal: r.fatal, Line: clip(line, maxFindingLine), Message: r.message(m)}, true
	}
	return schema.LogFinding{}, false
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// isGeneric reports whether findings of class c only name a symptom whose
// root cause is logged above it ("EngineCore failed to start"); any
// specific fatal finding wins over a generic one.
func isGeneric(c schema.FailureClass) bool { return c == schema.FailureEngineCore }

// coreRange turns NRT's "nc0-nc1" into "0-1" and "nc1-nc1" into "1".
func coreRange(s string) string {
	s = strings.NewReplacer("lnc", "", "nc", "").Replace(s)
	if a, b, ok := strings.Cut(s, "-"); ok && a == b {
		return a
	}
	return s
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// maxFindingLine bounds the log line stored with a finding.
const maxFindingLine = 400

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// runeStart reports whether b begins a UTF-8 sequence.
func runeStart(b byte) bool { return b&0xC0 != 0x80 }
