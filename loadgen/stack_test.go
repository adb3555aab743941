package loadgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/engine"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
	"loadgen/server/neuron"
	"loadgen/server/servertest"
)

// TestShippedSweepOnEveryStack runs the shipped rerank.yaml on every
// simulated stack twice over the same compiled-artifacts root (a compile,
// then the compile-once-reuse path) and checks that every config ends ok,
// nothing voided: NxDI's "Unexpected keyword arguments" for late-popped
// keys (2.26) and for derived attributes on reuse are notes, and the
// plugin's "override_neuron_config will be ignored" on reuse is the
// expected cache hit. The manifest records the stack; command.txt says
// which settings the plugin replaces. (`loadgen sweep --simulate
// --sim-stack NAME profiles/rerank.yaml` runs all its phases.)
func TestShippedSweepOnEveryStack(t *testing.T) {
	// The stacks run one after another: the shipped profile pins
	// NeuronCores 0-1, which one simulator at a time may hold.
	for _, name := range neuron.Names() {
		t.Run(name, func(t *testing.T) {
			p, err := profiles.LoadShipped("rerank.yaml")
			if err != nil {
				t.Fatal(err)
			}
			// Its configs and workload as shipped; the load phases run in
			// real time, so only the first (a sync pass) is kept.
			p.Load = p.Load[:1]
			o, _ := simOptions(t, p)
			o.Sim.Speed, o.Sim.StartupSpeed, o.Sim.Stack = 500, 1000, name
			for run, artifacts := range []string{"miss", "hit"} {
				if run > 0 {
					o.Out = filepath.Join(t.TempDir(), "again")
				}
				out := runSweep(t, o)
				if out.Passed != 4 || out.Failed != 0 {
					t.Fatalf("run %d: %+v, want 4 configs passed", run+1, *out)
				}
				m := readManifest(t, o.Out)
				if m.Stack == nil || m.Stack.Name != name || m.Stack.Source != profiles.StackSimulated {
					t.Errorf("manifest stack %+v, want %s, simulated", m.Stack, name)
				}
				for _, cs := range m.Configs {
					if cs.Status != schema.StatusOK || cs.FailureClass != "" {
						t.Errorf("run %d: config %s: %s %s %s", run+1, cs.Name, cs.Status, cs.FailureClass, cs.Reason)
					}
					st := servertest.ReadStartup(t, o.Out, cs.Name)
					if st.FailureClass != "" {
						t.Errorf("run %d: %s/startup.json: %s %s", run+1, cs.Name, st.FailureClass, st.Reason)
					}
					if st.CompiledArtifacts != artifacts {
						t.Errorf("run %d: %s: artifacts %q, want %q", run+1, cs.Name, st.CompiledArtifacts, artifacts)
					}
					st226, _ := neuron.Lookup(name)
					wantNote := artifacts == "hit" || st226.Kind("skip_warmup") == neuron.KeyLate
					if got := hasFinding(st, schema.NoteNeuronConfig, neuron.MsgUnexpectedKwargs); got != wantNote {
						t.Errorf("run %d: %s: neuron_config note %v, want %v: %+v", run+1, cs.Name, got, wantNote, st.Findings)
					}
				}
				cmd, err := os.ReadFile(filepath.Join(o.Out, "cache_off-bucketing_on", "command.txt"))
				if err != nil || !strings.Contains(string(cmd), "# note: vllm-neuron ") || !strings.Contains(string(cmd), "--max-num-batched-tokens 256 → 131072") {
					t.Errorf("command.txt does not name the plugin's overrides (%v):\n%s", err, cmd)
				}
			}
		})
	}
}

// TestTypoStopsTheSweep: a misspelt neuron_config key stops the sweep
// before anything starts, naming the key and the field meant.
func TestTypoStopsTheSweep(t *testing.T) {
	t.Parallel()
	_, err := profiles.Load(servertest.WriteProfile(t, "typo", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
    neuron_config:
      fused_qvk: true
`+resumeLoad))
	if err == nil || !strings.Contains(err.Error(), "neuron_config.fused_qvk") || !strings.Contains(err.Error(), "did you mean fused_qkv?") {
		t.Fatalf("Load: %v, want an error naming fused_qvk", err)
	}
}

// TestOnDeviceSamplingHint: under on-device sampling every rerank request
// fails as vLLM 0.11 fails it, and the phase's errors say what to do.
func TestOnDeviceSamplingHint(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "ods", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
    neuron_config:
      on_device_sampling_config: {dynamic: true}
load:
  - arrival: sync
    queries: 2
`)
	o, _ := simOptions(t, p)
	runSweep(t, o)
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("one", "sync")), &res)
	e, ok := res.Errors[engine.KindStream]
	if !ok || !strings.Contains(e.Sample, engine.LogprobIndexError) || !strings.Contains(e.Sample, engine.OnDeviceSamplingHint) {
		t.Errorf("errors %+v, want stream errors with the on-device sampling hint", res.Errors)
	}
}

// TestLogprobIndexErrorText keeps the engine's copy of vLLM's message equal
// to the stack table's (the engine cannot import server/neuron).
func TestLogprobIndexErrorText(t *testing.T) {
	if engine.LogprobIndexError != neuron.MsgLogprobIndexError {
		t.Errorf("engine.LogprobIndexError %q != neuron.MsgLogprobIndexError %q", engine.LogprobIndexError, neuron.MsgLogprobIndexError)
	}
}

// TestDetectedStack: on a real host the sweep reads the stack from the
// Python environment of the vllm on PATH (stand-ins here: a vllm whose #!
// names a python that prints NxDI 2.26's versions), checks the plan
// against it and records it with the versions in the manifest.
func TestDetectedStack(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	python := "#!/bin/sh\necho '{\"prefix\": \"/opt/venv\", \"versions\": {\"vllm\": \"0.11.0\", \"vllm-neuron\": \"0.2.0\", \"neuronx-distributed-inference\": \"0.6.10598\", \"neuronx-cc\": \"2.21.18209.0\"}}'\n"
	for name, body := range map[string]string{"python3": python, "vllm": "#!" + filepath.Join(bin, "python3") + "\n"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	p := writeProfile(t, "detect", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
    neuron_config:
      windowed_context_encoding_size: 1024
`+resumeLoad)
	o, _ := simOptions(t, p)
	o.Simulate = false
	_, err := Plan(o)
	if err == nil || !strings.Contains(err.Error(), "windowed_context_encoding_size: config one: is not a NeuronConfig field of NxDI 0.6.10598 (stack 2.26)") {
		t.Fatalf("Plan: %v, want the 2.27-only key refused on the detected 2.26", err)
	}
	delete(p.Configs[0].NeuronConfig, "windowed_context_encoding_size")
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	c := plan.Stack
	if c.Stack == nil || c.Stack.Name != "2.26" || c.Source != "detected" || c.Env != "/opt/venv" || c.Versions.NxDI != "0.6.10598" {
		t.Fatalf("stack choice %+v, want 2.26 detected in /opt/venv", c)
	}
	info := stackInfo(c)
	if info.Name != "2.26" || info.Versions["vllm-neuron"] != "0.2.0" || info.Env != "/opt/venv" {
		t.Errorf("manifest record %+v", info)
	}
	if plan.Configs[0].Server.Stack != "2.26" {
		t.Errorf("the log classifier of config one reads stack %q, want 2.26", plan.Configs[0].Server.Stack)
	}
}

// TestSimulatedStackFromProfile: without --sim-stack a simulated sweep
// simulates the stack the profile names, and passes it to the simulator.
func TestSimulatedStackFromProfile(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "named", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
`+resumeLoad)
	p.Server.Stack = "2.26"
	o, _ := simOptions(t, p)
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	if c := plan.Stack; c.Stack == nil || c.Stack.Name != "2.26" || c.Source != profiles.StackSimulated {
		t.Errorf("stack %+v, want 2.26 simulated", c)
	}
	if env := strings.Join(plan.Configs[0].Server.Env, " "); !strings.Contains(env, "LOADGEN_SIM_STACK=2.26") {
		t.Errorf("the simulator is not told the stack: %s", env)
	}
	o.Sim.Stack = "2.27" // --sim-stack wins
	if plan, err = Plan(o); err != nil || plan.Stack.Stack.Name != "2.27" {
		t.Errorf("--sim-stack 2.27: %+v, %v", plan.Stack, err)
	}
}
