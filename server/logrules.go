package server

import (
	"fmt"
	"regexp"
	"strings"

	"loadgen/loadgen/schema"
	"loadgen/server/neuron"
)

// This file turns the log lines of package neuron's table into findings:
// fatal causes, warnings that void a run, notes, compiled-artifact cache
// markers and startup phases. The texts and their upstream sources live in
// package neuron (logs.go); rules whose text has no upstream source at hand
// say so. Every row is tested against a log line in logrules_test.go.

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
	// judge, when set, replaces class and message: it decides from the
	// submatches and what is known about the server (the stack, the keys
	// the profile wrote).
	judge func(m []string, x logContext) (schema.FailureClass, string)
}

// q quotes a literal text of package neuron for a regular expression.
func q(s string) string { return regexp.QuoteMeta(s) }

// fixed returns a message func that ignores the submatches.
func fixed(s string) func([]string) string { return func([]string) string { return s } }

// logRules is checked in order for every log line; the first match wins.
var logRules = []logRule{
	{
		// Runtime texts (libnrt, closed source): UNVERIFIED against
		// source, from the Neuron docs (nrt-troubleshoot); newer runtimes
		// say "Logical Neuron Core(s)" and append "(cores busy, ret=-16)".
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
		// Runtime text; no upstream source at hand.
		class: schema.FailureDeviceInit, fatal: true,
		keys:    []string{"Failed to initialize devices", "TDRV not initialized"},
		re:      regexp.MustCompile(`Failed to initialize devices, error:\s*(\d+)|TDRV not initialized`),
		message: fixed("the Neuron device was left in a bad state by a previous process (TDRV not initialized); reload the driver: sudo rmmod neuron && sudo modprobe neuron"),
	},
	{
		// Runtime texts: UNVERIFIED against source (aws-neuron-sdk issue
		// #1014, vLLM issue #12443).
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
		re:      regexp.MustCompile(q(neuron.MsgKShape)),
		message: fixed("is_block_kv_layout is on without is_prefix_caching ('BlockKVCacheManager' has no k_shape); set both together with --enable-prefix-caching, or neither"),
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys:    []string{"block_size must be set"},
		re:      regexp.MustCompile(q(strings.TrimSuffix(neuron.MsgPrefixBlockSize, "."))),
		message: fixed("prefix caching is on (vLLM's default) but --block-size is missing; pass --no-enable-prefix-caching, or --enable-prefix-caching with --block-size and --num-gpu-blocks-override"),
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys: []string{"blocks are required"},
		re:   fmtRe(neuron.MsgMinBlocks, 1),
		message: func(m []string) string {
			return fmt.Sprintf("too few KV blocks: at least %s are needed for max_model_len; raise --num-gpu-blocks-override to ceil(max_model_len/block_size)*max_num_seqs", m[1])
		},
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys: []string{"must match your --num-gpu-blocks-override"},
		re:   fmtRe(neuron.MsgPANumBlocksMismatch, 2),
		message: func(m []string) string {
			return fmt.Sprintf("override_neuron_config.pa_num_blocks (%s) differs from --num-gpu-blocks-override (%s); drop pa_num_blocks or make them equal", m[1], m[2])
		},
	},
	{
		class: schema.FailureBlockMath, fatal: true,
		keys:    []string{"you must also set --num-gpu-blocks-override"},
		re:      fmtRe(neuron.MsgPANumBlocksAlone, 1),
		message: fixed("override_neuron_config.pa_num_blocks is set without --num-gpu-blocks-override; pass the flag with the same value"),
	},
	{
		// 1-D and 2-D (prefix caching) forms; the 2-D one prints tensors.
		class: schema.FailureBucketExceeded, fatal: true,
		keys: []string{"exceeds largest bucket"},
		re:   alt(fmtRe(neuron.MsgInputLenExceeds, 2), fmtRe(neuron.MsgPrefillLenExceeds, 2), fmtRe(neuron.MsgPrefixLenExceeds, 2)),
		message: func(m []string) string {
			switch {
			case m[1] != "":
				return fmt.Sprintf("a prompt of %s tokens exceeds the largest context-encoding bucket (%s) and killed the engine; make the largest context_encoding_bucket equal max_model_len, or cap prompt length", m[1], m[2])
			case m[3] != "":
				return fmt.Sprintf("a prompt of %s uncached tokens exceeds the largest context-encoding bucket (%s) of prefix caching's 2-D ladder and killed the engine; make the largest context_encoding_bucket equal max_model_len", tensorInt(m[3]), tensorInt(m[4]))
			}
			return fmt.Sprintf("a cached prefix of %s tokens exceeds the largest prefix bucket (%s) and killed the engine; end prefix_buckets with max_model_len", tensorInt(m[5]), tensorInt(m[6]))
		},
	},
	{
		class: schema.FailureBucketConfig, fatal: true,
		keys:    []string{"can only concatenate list"},
		re:      regexp.MustCompile(q(neuron.MsgPrefixBucketsTypeError)),
		message: fixed("explicit context_encoding_buckets with prefix caching need prefix_buckets too: NxDI builds the 2-D ladder from both and fails on the missing list (TypeError: can only concatenate list (not \"NoneType\") to list); set prefix_buckets"),
	},
	{
		class: schema.FailureBucketConfig, fatal: true,
		keys: []string{"should be <="},
		re:   alt(fmtRe(neuron.MsgContextBucketAssert, 2), fmtRe(neuron.MsgTKGBucketAssert, 2)),
		message: func(m []string) string {
			if m[1] != "" {
				return fmt.Sprintf("the largest context_encoding_bucket (%s) exceeds max_context_length (%s, max_model_len); end the list at max_model_len", m[1], m[2])
			}
			return fmt.Sprintf("the largest token_generation_bucket (%s) exceeds seq_len (%s, max_model_len); end the list at max_model_len", m[3], m[4])
		},
	},
	{
		class: schema.FailureCachedFailedNEF, fatal: true,
		keys: []string{"cached failed neff"},
		re:   regexp.MustCompile(q(neuron.MsgCachedFailedNEFF) + `(\S+)`),
		message: func(m []string) string {
			return fmt.Sprintf("an earlier compile failed and its failure is cached (%s); set NEURON_CC_FLAGS=--retry_failed_compilation or delete that MODULE directory", clip(strings.TrimRight(m[1], ".,"), 120))
		},
	},
	{
		// Python's socket error text; no upstream source needed.
		class: schema.FailureAddressInUse, fatal: true,
		keys:    []string{"[Errno 98]"},
		re:      regexp.MustCompile(`\[Errno 98\].*[Aa]ddress already in use`),
		message: fixed("the server could not bind its port ([Errno 98] Address already in use); stop whatever listens there or choose another server.port"),
	},
	{
		// torch's text; observed, no upstream source at hand.
		class: schema.FailureMetaTensor, fatal: true,
		keys:    []string{"meta tensor"},
		re:      regexp.MustCompile(`Cannot copy out of meta tensor`),
		message: fixed("the model was given as a Hub ID and its tied embeddings cannot be sharded on load (meta tensor); serve a local model directory"),
	},
	{
		// The C++ runtime's abort text; observed, no upstream source at hand.
		class: schema.FailureRuntimeAbort, fatal: true,
		keys:    []string{"c10::Error"},
		re:      regexp.MustCompile(`terminate called after throwing an instance of 'c10::Error'`),
		message: fixed("the Neuron runtime aborted (c10::Error), usually because tensor_parallel_size exceeds the NeuronCores available; lower it or check NEURON_RT_VISIBLE_CORES"),
	},
	{
		// The plugin's text; no upstream source at hand.
		class: schema.FailureUnsupportedModel, fatal: true,
		keys: []string{"is not supported on Neuron"},
		re:   regexp.MustCompile(`Model (\S+) is not supported on Neuron`),
		message: func(m []string) string {
			return fmt.Sprintf("NxDI does not support the architecture %s; serve a model whose architecture vllm-neuron lists", m[1])
		},
	},
	{
		// argparse's texts.
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
		// pydantic's text.
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
		re:      alt(regexp.MustCompile(q(strings.TrimSuffix(neuron.MsgEngineFailed, "."))), fmtRe(neuron.MsgEngineInitFailed, 0)),
		message: fixed("the engine core failed to start and the log names no cause loadgen knows; read the lines above \"EngineCore failed to start\" in server.log"),
	},
	{
		// Generic: the traceback that follows names the exception; a
		// specific cause in it (a bucket overflow, …) wins.
		class: schema.FailureEngineCore, fatal: true,
		keys:    []string{"EngineCore encountered"},
		re:      alt(regexp.MustCompile(q(neuron.MsgEngineFatal)), regexp.MustCompile(q(neuron.MsgEngineDead))),
		message: fixed("the engine core died while serving; the traceback after \"EngineCore encountered a fatal error.\" in server.log names the exception that killed it"),
	},
	{
		keys:  []string{"Unexpected keyword arguments"},
		re:    regexp.MustCompile(q(neuron.MsgUnexpectedKwargs) + `\s*(.*)`),
		judge: judgeUnexpected,
	},
	{
		// The plugin logs this on every reuse that passes overrides; only
		// the sweep knows whether the artifacts are this config's own.
		class:   schema.NoteArtifactsReused,
		keys:    []string{"override_neuron_config will be ignored"},
		re:      regexp.MustCompile(q(neuron.MsgOverridesIgnored)),
		message: fixed("compiled artifacts were reused from NEURON_COMPILED_ARTIFACTS, so override_neuron_config was ignored: the run measures the config the artifacts were compiled for; give each config its own artifacts directory or delete a stale one"),
	},
	{
		class: schema.FailureInvalidConfig,
		keys:  []string{"No neuron overrides are passed"},
		re:    regexp.MustCompile(q(neuron.MsgNoOverrides) + `(\{[^}\s].*\})`),
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
	{"miss", []string{literal(neuron.MsgArtifactsMiss)}},
	{"hit", []string{literal(neuron.MsgArtifactsHit), neuron.MsgOverridesIgnored}},
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
	{PhaseGeneratingHLO, []string{literal(neuron.MsgGeneratingHLOs)}},
	{PhaseCompiling, []string{neuron.MsgPriorityCompile, neuron.MsgAllCompile, neuron.MsgCompilerCmd}},
	// "Loading pre-sharded checkpoints" (save_sharded_checkpoint): no
	// upstream source at hand.
	{PhaseLoadingWeights, []string{literal(neuron.MsgFinishedBuilding), literal(neuron.MsgArtifactsHit), neuron.MsgShardingOnLoad, "Loading pre-sharded checkpoints"}},
	{PhaseWarmup, []string{neuron.MsgWarmingUp}},
	// uvicorn's line.
	{PhaseReady, []string{"Application startup complete"}},
}

// phaseOrder ranks the phases; see phaseRules.
var phaseOrder = map[string]int{
	PhaseLoading: 0, PhaseGeneratingHLO: 1, PhaseCompiling: 2,
	PhaseLoadingWeights: 3, PhaseWarmup: 4, PhaseReady: 5,
}

// classify returns the finding for one log line, if the line is notable.
func classify(line string, x logContext) (schema.LogFinding, bool) {
	for _, r := range logRules {
		if !containsAny(line, r.keys) {
			continue
		}
		m := r.re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := schema.LogFinding{Class: r.class, Fatal: r.fatal, Line: clip(line, maxFindingLine)}
		if r.judge != nil {
			f.Class, f.Message = r.judge(m, x)
		} else {
			f.Message = r.message(m)
		}
		return f, true
	}
	return schema.LogFinding{}, false
}

// fmtRe turns a printf format of package neuron into a regular expression
// for its text up to its n-th verb (the whole text when n is 0 or beyond
// the last verb): literal parts quoted, %d as (\d+), %s as (.+?).
func fmtRe(format string, n int) *regexp.Regexp {
	var b strings.Builder
	verbs := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteString(regexp.QuoteMeta(format[i : i+1]))
			continue
		}
		i++
		switch format[i] {
		case 'd':
			b.WriteString(`(\d+)`)
		case 's':
			b.WriteString(`(.+?)`)
		default:
			b.WriteString(regexp.QuoteMeta(format[i : i+1]))
			continue
		}
		if verbs++; verbs == n {
			break
		}
	}
	return regexp.MustCompile(b.String())
}

// alt joins expressions as alternatives; the submatches of each keep their
// own indices in order.
func alt(res ...*regexp.Regexp) *regexp.Regexp {
	parts := make([]string, len(res))
	for i, re := range res {
		parts[i] = re.String()
	}
	return regexp.MustCompile(strings.Join(parts, "|"))
}

// literal is the text of a printf format before its first verb.
func literal(format string) string {
	if i := strings.IndexByte(format, '%'); i >= 0 {
		return format[:i]
	}
	return format
}

// tensorRe reads the int of a 0-d torch tensor repr ("tensor(600,
// dtype=torch.int32)"), as NxDI's 2-D bucket errors print them.
var tensorRe = regexp.MustCompile(`^tensor\((\d+)`)

// tensorInt returns the int inside a tensor repr, or s itself.
func tensorInt(s string) string {
	if m := tensorRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
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
