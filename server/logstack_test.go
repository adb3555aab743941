package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/server/neuron"
)

// engineLine renders a record of a Python logger in the engine process the
// way the stack prints it: "(EngineCore_DP0 pid=N) LEVEL:logger:msg".
func engineLine(level, logger, format string, a ...any) string {
	return fmt.Sprintf("(EngineCore_DP0 pid=2215) %s:%s:%s", level, logger, fmt.Sprintf(format, a...))
}

// pyDict renders keys as a Python dict repr with False values, in order.
func pyDict(keys ...string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("'%s': False", k)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestClassify_stacks runs the classifier over log excerpts built from the
// stack's own format strings (package neuron), once per supported stack,
// with the override keys loadgen writes for the shipped profile.
func TestClassify_stacks(t *testing.T) {
	t.Parallel()
	written := map[string]bool{}
	for _, k := range []string{"enable_bucketing", "is_block_kv_layout", "is_prefix_caching", "on_device_sampling_config",
		"pa_block_size", "pa_num_blocks", "skip_warmup", "skip_wramup"} {
		written[k] = true
	}
	for _, st := range neuron.All() {
		x := logContext{stack: st, written: written}
		late := st.Kind("skip_warmup") == neuron.KeyLate
		// skip_warmup listed at compile time: a note where NxDI pops it
		// late (2.26); where it pops it early (2.27) the line cannot come
		// from this stack.
		lateClass, lateWant := schema.WarningNeuronConfig, "the server does not run stack "+st.Name
		if late {
			lateClass, lateWant = schema.NoteNeuronConfig, "applied although listed"
		}
		rows := []struct {
			name  string
			line  string
			class schema.FailureClass
			fatal bool
			want  string
		}{
			{"skip_warmup at compile time", engineLine("WARNING", neuron.LoggerRoot, "%s", neuron.MsgUnexpectedKwargs+"{'skip_warmup': True}"), lateClass, false, lateWant},
			{"reuse: derived attributes", engineLine("WARNING", neuron.LoggerRoot, "%s", neuron.MsgUnexpectedKwargs+pyDict(st.DerivedKeys()...)), schema.NoteNeuronConfig, false, "reuse of compiled artifacts"},
			{"typo the profile wrote", engineLine("WARNING", neuron.LoggerRoot, "%s", neuron.MsgUnexpectedKwargs+"{'skip_wramup': True}"), schema.FailureInvalidConfig, false, "skip_wramup (did you mean skip_warmup?)"},
			{"typo next to derived keys", engineLine("WARNING", neuron.LoggerRoot, "%s", neuron.MsgUnexpectedKwargs+"{'is_prefill_stage': None, 'skip_wramup': True}"), schema.FailureInvalidConfig, false, "NxDI " + st.NxDI},
			{"key of unknown origin", engineLine("WARNING", neuron.LoggerRoot, "%s", neuron.MsgUnexpectedKwargs+"{'use_draft_group': True}"), schema.WarningNeuronConfig, false, "use_draft_group"},
			{"overrides ignored on reuse", engineLine("WARNING", neuron.LoggerLoader, "%s", neuron.MsgOverridesIgnored), schema.NoteArtifactsReused, false, "own artifacts directory"},
			{"1-D bucket exceeded", "ValueError: " + fmt.Sprintf(neuron.MsgInputLenExceeds, 3000, 2048, neuron.TagCTE), schema.FailureBucketExceeded, true, "3000 tokens"},
			{"2-D bucket exceeded", "ValueError: " + fmt.Sprintf(neuron.MsgPrefillLenExceeds, "tensor(3000, dtype=torch.int32)", "tensor(2048, dtype=torch.int32)", neuron.TagCTE), schema.FailureBucketExceeded, true, "3000 uncached tokens"},
			{"prefix_buckets missing", neuron.MsgPrefixBucketsTypeError, schema.FailureBucketConfig, true, "set prefix_buckets"},
			{"context bucket too large", "AssertionError: " + fmt.Sprintf(neuron.MsgContextBucketAssert, 4096, 2048), schema.FailureBucketConfig, true, "(4096)"},
			{"too few blocks", "AssertionError: " + fmt.Sprintf(neuron.MsgMinBlocks, 256, 2048, 4), schema.FailureBlockMath, true, "at least 256"},
			{"pa_num_blocks mismatch", "ValueError: " + fmt.Sprintf(neuron.MsgPANumBlocksMismatch, 512, 4), schema.FailureBlockMath, true, "(512) differs from --num-gpu-blocks-override (4)"},
			{"block size missing", "AssertionError: " + neuron.MsgPrefixBlockSize, schema.FailureBlockMath, true, "--block-size"},
			{"k_shape", "AttributeError: " + neuron.MsgKShape, schema.FailureKShape, true, "is_block_kv_layout"},
			{"forced token budget is no finding", engineLine("INFO", neuron.LoggerPlatform, neuron.MsgForcedBatchedTokens, neuron.ForcedMaxNumBatchedTokens), schema.FailureNone, false, ""},
			{"CPU sampling is no finding", engineLine("INFO", neuron.LoggerRunner, neuron.MsgCPUSampling), schema.FailureNone, false, ""},
		}
		for _, r := range rows {
			f, ok := classify(r.line, x)
			switch {
			case r.class == schema.FailureNone && ok:
				t.Errorf("%s: %s: got %+v, want no finding", st.Name, r.name, f)
			case r.class == schema.FailureNone:
			case !ok || f.Class != r.class || f.Fatal != r.fatal || !strings.Contains(f.Message, r.want):
				t.Errorf("%s: %s: got %v %+v, want %s (fatal %t) saying %q", st.Name, r.name, ok, f, r.class, r.fatal, r.want)
			}
		}
	}
}

// TestLogWatch_stackStartups follows a cold and a cached start made of the
// stack's format strings: phases, the artifacts outcome, and no finding
// that voids the run.
func TestLogWatch_stackStartups(t *testing.T) {
	t.Parallel()
	path := "/var/tmp/loadgen/compiled-artifacts/c-1"
	for _, st := range neuron.All() {
		x := logContext{stack: st, written: map[string]bool{"skip_warmup": true}}
		cold := []string{
			engineLine("INFO", neuron.LoggerLoader, "%s", neuron.MsgRetrievedOverrides+"{'skip_warmup': True}"),
			engineLine("WARNING", neuron.LoggerLoader, "Exception: [Errno 2] No such file or directory: '%s/neuron_config.json'", path),
			engineLine("WARNING", neuron.LoggerLoader, neuron.MsgArtifactsMiss, path),
			engineLine("INFO", neuron.LoggerNeuron, "%s", neuron.MsgSavingNeuronConfig+path),
			engineLine("INFO", neuron.LoggerNeuron, "%s", neuron.MsgGeneratingHLOs+"['context_encoding_model', 'token_generation_model']"),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgPriorityCompile),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgAllCompile),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgFinishedAllCompilation, "500.0"),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgFinishedBuilding, "600.0"),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgShardingOnLoad),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgSkippingWarmup),
		}
		if st.Kind("skip_warmup") == neuron.KeyLate {
			cold = append([]string{engineLine("WARNING", neuron.LoggerRoot, neuron.MsgUnexpectedKwargs+"{'skip_warmup': True}")}, cold...)
		}
		cached := []string{
			engineLine("WARNING", neuron.LoggerRoot, "%s", neuron.MsgUnexpectedKwargs+pyDict(st.DerivedKeys()...)),
			engineLine("INFO", neuron.LoggerNeuron, neuron.MsgShardingOnLoad),
			engineLine("INFO", neuron.LoggerLoader, neuron.MsgArtifactsHit, path),
			engineLine("WARNING", neuron.LoggerLoader, "%s", neuron.MsgOverridesIgnored),
		}
		for _, run := range []struct {
			name      string
			lines     []string
			phases    string
			artifacts string
		}{
			{"cold", cold, "loading generating_hlo compiling loading_weights", "miss"},
			{"cached", cached, "loading loading_weights", "hit"},
		} {
			w := newLogWatch(time.Unix(0, 0), time.Now, x)
			for _, l := range run.lines {
				fmt.Fprintln(w, l)
			}
			phases, artifacts, findings := w.snapshot(time.Now())
			var names []string
			for _, p := range phases {
				names = append(names, p.Name)
			}
			if got := strings.Join(names, " "); got != run.phases || artifacts != run.artifacts {
				t.Errorf("%s %s: phases %q artifacts %q, want %q %q", st.Name, run.name, got, artifacts, run.phases, run.artifacts)
			}
			if f, ok := w.warning(); ok {
				t.Errorf("%s %s: voided by %+v", st.Name, run.name, f)
			}
			for _, f := range findings {
				if f.Class != schema.NoteNeuronConfig && f.Class != schema.NoteArtifactsReused {
					t.Errorf("%s %s: finding %+v, want only notes", st.Name, run.name, f)
				}
			}
		}
	}
}
