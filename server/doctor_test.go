package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// standIns writes stand-in executables into a fresh bin directory of a
// fake virtualenv and returns the environment's root: vllm (a script whose
// #! names the environment's python3), python3 (prints versions as the
// probe's script would), pip (pip show output) and neuron-ls (JSON). An
// empty text leaves the program out.
func standIns(t *testing.T, python, pip, neuronLS string) string {
	t.Helper()
	env := t.TempDir()
	bin := filepath.Join(env, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if body == "" {
			return
		}
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("vllm", "#!"+filepath.Join(bin, "python3")+"\nfrom vllm.entrypoints.cli.main import main\n")
	write("python3", python)
	write("pip", pip)
	write("neuron-ls", neuronLS)
	return env
}

// echo is a shell script that prints text and exits with code.
func echo(text string, code int) string {
	return fmt.Sprintf("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\nexit %d\n", text, code)
}

// modelDir writes a model directory with a config, a tokenizer and weights.
func modelDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	versions227 = `{"prefix": "%s", "executable": "x", "versions": {"vllm": "0.11.0", "vllm-neuron": "0.2.2+lts", "neuronx-distributed-inference": "0.7.14366+a1b2c3d4", "neuronx-cc": "2.22.12471.0+b4a00d10"}}`
	pipShow226  = "Name: vllm\nVersion: 0.11.0\nLocation: /x\n---\nName: vllm-neuron\nVersion: 0.2.0\n---\nName: neuronx-distributed-inference\nVersion: 0.6.10598\n---\nName: neuronx-cc\nVersion: 2.21.18209.0\n"
	idleCores   = `[{"neuron_device": 0, "bdf": "00:1f.0", "connected_to": null, "nc_count": 2, "memory_size": 34359738368, "neuron_processes": []}]`
	busyCores   = `[{"neuron_device": 0, "nc_count": 2, "neuroncore_ids": [0, 1], "neuron_processes": [{"pid": 4242, "command": "python3 -m vllm.entrypoints.openai.api_server"}]}]`
)

// TestDoctor runs loadgen doctor's checks against stand-in programs first
// on PATH (python, pip, neuron-ls, vllm) and checks one finding per line
// and whether a sweep may start.
func TestDoctor(t *testing.T) {
	model := modelDir(t)
	freeBytes = func(p string) (uint64, string, error) { return 100 << 30, p, nil }
	t.Cleanup(func() { freeBytes = FreeBytes })
	tests := []struct {
		name string
		// python, pip and neuron-ls stand-ins (%s in python: the env root)
		python, pip, ls string
		active          bool // VIRTUAL_ENV is the stand-in environment
		opts            DoctorOptions
		ok              bool
		want            []string // substrings of the output, in order
	}{
		{"healthy 2.27 host", echo(versions227, 0), "", echo(idleCores, 0), true, DoctorOptions{Model: model, Cores: []int{0, 1}, TP: 2}, true,
			[]string{"ok    vllm 0.11.0, vllm-neuron 0.2.2+lts, neuronx-distributed-inference 0.7.14366+a1b2c3d4, neuronx-cc 2.22.12471.0+b4a00d10 in ",
				"(read with python)", "ok    vllm on PATH", "belongs to the active environment", "ok    stack 2.27 (SDK 2.27.0",
				"ok    NeuronCores 0-1 on 1 device(s); the sweep's cores (0-1) are free", "ok    100.0 GiB free under", "ok    model ",
				"note  stack 2.27: the plugin source on GitHub is not compatible with SDK 2.27"}},
		{"python fails: pip show, stack 2.26", echo("Traceback: boom", 1), echo(pipShow226, 0), echo(idleCores, 0), true, DoctorOptions{Model: model, TP: 2}, true,
			[]string{"warn  ", "could not report the package versions", "ok    vllm 0.11.0, vllm-neuron 0.2.0, neuronx-distributed-inference 0.6.10598", "(read with pip)",
				"ok    stack 2.26", "note  stack 2.26: NeuronConfig pops skip_warmup"}},
		{"cores held by another server", echo(versions227, 0), "", echo(busyCores, 0), true, DoctorOptions{Model: model, Cores: []int{0, 1}, TP: 2}, false,
			[]string{"FAIL  NeuronCores 0-1 (device 0) are held by pid 4242 (python3 -m vllm.entrypoints.openai.api_server): the sweep needs them; stop that process"}},
		{"vllm of another environment", echo(versions227, 0), "", echo(idleCores, 0), false, DoctorOptions{Model: model, TP: 2}, true,
			[]string{"warn  vllm on PATH", "not in the active environment"}},
		{"no plugin installed", echo(`{"prefix": "%s", "versions": {"vllm": "0.11.0"}}`, 0), "", echo(idleCores, 0), true, DoctorOptions{Model: model, TP: 2}, false,
			[]string{"FAIL  vllm 0.11.0, vllm-neuron not installed", "without vllm and vllm-neuron"}},
		{"Hub id and too much TP", echo(versions227, 0), "", echo(idleCores, 0), true, DoctorOptions{Model: "Qwen/Qwen3-Reranker-0.6B", HubID: true, TP: 4}, false,
			[]string{"FAIL  tensor_parallel_size 4 needs 4 NeuronCores, but the sweep may use 2 (0-1)", "warn  model \"Qwen/Qwen3-Reranker-0.6B\" is a Hugging Face id"}},
		{"profile names another stack", echo(versions227, 0), "", echo(idleCores, 0), true, DoctorOptions{Model: model, TP: 2, Stack: "2.26"}, true,
			[]string{"warn  server.stack says 2.26, but the versions match stack 2.27"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := standIns(t, "", tc.pip, tc.ls)
			if tc.python != "" {
				if err := os.WriteFile(filepath.Join(env, "bin", "python3"), []byte(strings.ReplaceAll(tc.python, "%s", env)), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// The stand-ins first; /bin for the shell tools they use.
			t.Setenv("PATH", filepath.Join(env, "bin")+string(os.PathListSeparator)+"/usr/bin"+string(os.PathListSeparator)+"/bin")
			if tc.active {
				t.Setenv("VIRTUAL_ENV", env)
			} else {
				t.Setenv("VIRTUAL_ENV", t.TempDir())
			}
			o := tc.opts
			o.Command, o.ArtifactsRoot = "vllm", t.TempDir()
			fs, ok := Doctor(context.Background(), o)
			var b strings.Builder
			for _, f := range fs {
				if strings.Contains(f.Text, "\n") {
					t.Errorf("finding spans lines: %q", f.Text)
				}
				fmt.Fprintln(&b, f)
			}
			out := b.String()
			if ok != tc.ok {
				t.Errorf("ok = %v, want %v\n%s", ok, tc.ok, out)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	t.Run("no vllm", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		fs, ok := Doctor(context.Background(), DoctorOptions{Command: "vllm", Model: model, ArtifactsRoot: t.TempDir(), TP: 2})
		if ok || len(fs) == 0 || fs[0].Level != LevelFail || !strings.Contains(fs[0].Text, `"vllm" is not in PATH`) {
			t.Errorf("ok %v, findings %v", ok, fs)
		}
	})
}

func TestParseNeuronLS(t *testing.T) {
	t.Parallel()
	devs, err := parseNeuronLS([]byte(`[{"neuron_device": 0, "nc_count": 2, "neuron_processes": []}, {"neuron_device": 1, "nc_count": 2, "neuron_processes": [{"pid": 7}]}]`))
	if err != nil || len(devs) != 2 || fmt.Sprint(devs[1].Cores) != "[2 3]" || devs[1].Processes[0].PID != 7 {
		t.Errorf("devices %+v, %v; want cores numbered across devices and the process kept", devs, err)
	}
	if _, err := parseNeuronLS([]byte("not json")); err == nil {
		t.Error("garbage parsed")
	}
}
