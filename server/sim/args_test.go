package sim

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParseArgs checks the vllm serve argv forms and the simulator's flags
// and environment.
func TestParseArgs(t *testing.T) {
	rows := []struct {
		name  string
		args  []string
		env   []string
		check func(o Options) bool
		// err is a substring of the argparse error (exit status 2); "" = ok.
		err string
	}{
		// "serve" is optional; the positional is the model.
		{name: "positional", args: []string{"serve", "/m"}, check: func(o Options) bool { return o.Model == "/m" && o.ServedNames()[0] == "/m" }},
		{name: "no_serve_word", args: []string{"/m", "--port", "9"}, check: func(o Options) bool { return o.Model == "/m" && o.Port == 9 }},
		// --flag=value, --flag value and '_' for '-' are all accepted.
		{name: "forms", args: []string{"m", "--max-model-len=2048", "--max_num_seqs", "4", "--tensor_parallel_size=2", "-tp", "2"},
			check: func(o Options) bool { return o.MaxModelLen == 2048 && o.MaxNumSeqs == 4 && o.TensorParallelSize == 2 }},
		// --no-enable-prefix-caching turns vLLM's default APC off.
		{name: "no_apc", args: []string{"m", "--no-enable-prefix-caching"}, check: func(o Options) bool { return !o.PrefixCaching }},
		// APC is on by default (vLLM V1).
		{name: "apc_default", args: []string{"m"}, check: func(o Options) bool { return o.PrefixCaching }},
		// --served-model-name takes one or more names.
		{name: "served_names", args: []string{"m", "--served-model-name", "a", "b", "--port", "1"},
			check: func(o Options) bool { return reflect.DeepEqual(o.ServedModelNames, []string{"a", "b"}) && o.Port == 1 }},
		// --additional-config carries override_neuron_config, keys in order.
		{name: "additional_config", args: []string{"m", "--additional-config", `{"override_neuron_config":{"skip_warmup":true,"enable_bucketing":false}}`},
			check: func(o Options) bool {
				return o.Override["skip_warmup"] == true && reflect.DeepEqual(o.OverrideKeys, []string{"skip_warmup", "enable_bucketing"})
			}},
		// Ignored vLLM flags are accepted, with and without values.
		{name: "ignored", args: []string{"m", "--dtype", "bfloat16", "--trust-remote-code", "--gpu-memory-utilization", "0.9", "--seed", "-1"},
			check: func(o Options) bool { return o.Dtype == "bfloat16" && o.Seed == -1 }},
		// --model is accepted (deprecated in favour of the positional).
		{name: "model_flag", args: []string{"serve", "--model", "/x"}, check: func(o Options) bool { return o.Model == "/x" }},
		// No model at all serves vLLM's default.
		{name: "default_model", args: []string{"serve"}, check: func(o Options) bool { return o.Model == defaultModel }},
		// LOADGEN_SIM_* set the knobs; flags win over them.
		{name: "env", args: []string{"m", "--sim-speed", "3"}, env: []string{"LOADGEN_SIM_SPEED=2", "LOADGEN_SIM_ZERO_LATENCY=1", "LOADGEN_SIM_ERROR_RATE=0.5"},
			check: func(o Options) bool { return o.Speed == 3 && o.ZeroLatency && o.ErrorRate == 0.5 }},
		// vLLM and Neuron environment variables.
		{name: "neuron_env", args: []string{"m"}, env: []string{"NEURON_COMPILED_ARTIFACTS=/c", "NEURON_RT_VISIBLE_CORES=0-1", "VLLM_SERVER_DEV_MODE=1", "VLLM_API_KEY=k"},
			check: func(o Options) bool {
				return o.CompiledArtifacts == "/c" && o.VisibleCores == "0-1" && o.DevMode && o.APIKey == "k"
			}},
		// Every fault knob parses.
		{name: "faults", args: []string{"m", "--sim-error-rate", "0.1", "--sim-stream-error-rate=0.2", "--sim-slow-rate", "0.3",
			"--sim-slow-factor", "5", "--sim-drop-rate", "0.4", "--sim-crash-after", "7", "--sim-seed", "9", "--sim-jitter", "0"},
			check: func(o Options) bool {
				return o.ErrorRate == 0.1 && o.StreamErrorRate == 0.2 && o.SlowRate == 0.3 && o.SlowFactor == 5 &&
					o.DropRate == 0.4 && o.CrashAfter == 7 && o.SimSeed == 9 && o.Jitter == 0
			}},
		// Unknown flags fail like argparse, listing every unrecognized word.
		{name: "unknown", args: []string{"m", "--foo", "--bar=1"}, err: "unrecognized arguments: --foo --bar=1"},
		// A second positional is unrecognized.
		{name: "extra_positional", args: []string{"m", "n"}, err: "unrecognized arguments: n"},
		// A value flag without its value.
		{name: "missing_value", args: []string{"m", "--port"}, err: "argument --port: expected one argument"},
		// A value that is not an int.
		{name: "bad_int", args: []string{"m", "--port", "x"}, err: "argument --port: invalid int value: 'x'"},
		// A boolean flag given a value.
		{name: "bool_value", args: []string{"m", "--enable-prefix-caching=true"}, err: "ignored explicit argument 'true'"},
		// Broken --additional-config JSON.
		{name: "bad_json", args: []string{"m", "--additional-config", "{"}, err: "argument --additional-config: invalid loads value"},
		// Out-of-range simulator knobs.
		{name: "bad_rate", args: []string{"m", "--sim-error-rate", "2"}, err: "--sim-error-rate must be a probability"},
		{name: "bad_speed", args: []string{"m", "--sim-speed", "0"}, err: "--sim-speed must be > 0"},
		// A bad environment value.
		{name: "bad_env", args: []string{"m"}, env: []string{"LOADGEN_SIM_SPEED=fast"}, err: "LOADGEN_SIM_SPEED"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			o, err := ParseArgs(r.args, r.env)
			if r.err != "" {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), r.err) {
					t.Fatalf("error %v, want exit 2 with %q", err, r.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !r.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
	if _, err := ParseArgs([]string{"serve", "--help"}, nil); !errors.Is(err, ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
}

// FuzzParseArgs checks ParseArgs never panics and fails only with an
// ExitError.
func FuzzParseArgs(f *testing.F) {
	f.Add("serve m --port 8000 --max_model_len=2048 --no-enable-prefix-caching")
	f.Add("m --additional-config {\"override_neuron_config\":{}} --sim-speed 2")
	f.Add("--served-model-name a b -tp 2 -O3 --foo")
	f.Fuzz(func(t *testing.T, line string) {
		_, err := ParseArgs(strings.Fields(line), nil)
		var ee *ExitError
		if err != nil && !errors.Is(err, ErrHelp) && !errors.As(err, &ee) {
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}
