package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"loadgen/server/neuron"
)

// DoctorOptions say what a sweep will need of the Inferentia host.
type DoctorOptions struct {
	// Command is the server command's program ("vllm").
	Command string
	// Stack is the profile's server.stack ("" or "auto": detect).
	Stack string
	// Model is the profile's model: a local directory, or a Hub id.
	Model string
	// HubID says the model looks like a Hugging Face id (org/name).
	HubID bool
	// ArtifactsRoot is where the NEURON_COMPILED_ARTIFACTS directories go.
	ArtifactsRoot string
	// Cores are the NeuronCores the profile pins (nil: every core), and
	// TP the tensor-parallel degree.
	Cores []int
	TP    int
}

// Finding levels of loadgen doctor. Only LevelFail stops a sweep.
const (
	LevelOK   = "ok"
	LevelNote = "note"
	LevelWarn = "warn"
	LevelFail = "FAIL"
)

// Finding is one line of loadgen doctor.
type Finding struct {
	Level string
	Text  string
}

// String renders the finding as doctor prints it.
func (f Finding) String() string { return fmt.Sprintf("%-4s  %s", f.Level, f.Text) }

// Disk thresholds under the compiled-artifacts root (loadgen's own: a
// configuration's artifacts take on the order of a gigabyte or two; the
// compiler's cache and the weights need room too).
const (
	minFreeBytes  = 5 << 30
	warnFreeBytes = 20 << 30
)

// Doctor checks an Inferentia host before a sweep: the versions of vllm,
// vllm-neuron, NxDI and the Neuron compiler behind the vllm on PATH and the
// stack they make, whether that vllm belongs to the active environment, the
// NeuronCores and the processes holding them (neuron-ls), free disk under
// the compiled-artifacts root, the model directory, and the known quirks of
// the stack. ok is false when a finding would stop a sweep.
func Doctor(ctx context.Context, o DoctorOptions) (fs []Finding, ok bool) {
	add := func(level, format string, a ...any) {
		fs = append(fs, Finding{Level: level, Text: fmt.Sprintf(format, a...)})
	}
	st := doctorEnv(ctx, o, add)
	doctorCores(ctx, o, add)
	doctorDisk(o, add)
	doctorModel(o, add)
	for _, q := range st.Quirks {
		add(LevelNote, "stack %s: %s (%s)", st.Name, q.Text, q.Source)
	}
	ok = !slices.ContainsFunc(fs, func(f Finding) bool { return f.Level == LevelFail })
	return fs, ok
}

// doctorEnv reports the environment behind the vllm on PATH and returns
// the stack whose quirks apply.
func doctorEnv(ctx context.Context, o DoctorOptions, add func(level, format string, a ...any)) *neuron.Stack {
	named, err := neuron.Lookup(o.Stack)
	if err != nil {
		named = nil
	}
	env := ProbeEnv(ctx, o.Command)
	for _, p := range env.Problems {
		level := LevelWarn
		if env.VLLM == "" {
			level = LevelFail
		}
		add(level, "%s", p)
	}
	if env.VLLM == "" {
		return orDefault(named)
	}
	switch {
	case env.Versions.Empty():
	case env.Versions.VLLM == "" || env.Versions.Plugin == "":
		add(LevelFail, "%s in %s: without vllm and vllm-neuron, vllm serve does not run on Neuron; activate the stack's virtualenv (%s for SDK %s)",
			env.Versions, env.Prefix, neuron.Default().Venv, neuron.Default().SDK)
	default:
		add(LevelOK, "%s in %s (read with %s)", env.Versions, env.Prefix, env.Via)
	}
	active := ActiveEnv()
	switch {
	case active == "":
		add(LevelWarn, "no Python environment is active (no $VIRTUAL_ENV, no python3 on PATH); vllm on PATH is %s", env.VLLM)
	case samePath(active, env.Prefix):
		add(LevelOK, "vllm on PATH (%s) belongs to the active environment %s", env.VLLM, active)
	default:
		add(LevelWarn, "vllm on PATH (%s) runs in %s, not in the active environment %s: the sweep runs that vllm; activate its environment or fix PATH so that what you inspect is what runs", env.VLLM, env.Prefix, active)
	}
	st, notes, ok := neuron.Match(env.Versions)
	switch {
	case ok && named != nil && named != st:
		add(LevelWarn, "server.stack says %s, but the versions match stack %s; the sweep uses the profile's %s", named.Name, st.Name, named.Name)
		st = named
	case ok:
		add(LevelOK, "stack %s: the sweep applies its rules", st)
	case named != nil:
		add(LevelWarn, "the versions match no supported stack (%s); the sweep uses the profile's stack %s", strings.Join(neuron.Names(), ", "), named.Name)
		st = named
	default:
		add(LevelWarn, "the versions match no supported stack (%s); the sweep reads the log with stack %s's rules: set server.stack if you know better",
			strings.Join(neuron.Names(), ", "), neuron.DefaultName)
		st = neuron.Default()
	}
	for _, n := range notes {
		add(LevelWarn, "%s", n)
	}
	return st
}

func orDefault(st *neuron.Stack) *neuron.Stack {
	if st == nil {
		return neuron.Default()
	}
	return st
}

// samePath compares two directories after resolving symlinks.
func samePath(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ra == rb
}

// doctorCores reports the NeuronCores and who holds the ones the sweep
// needs.
func doctorCores(ctx context.Context, o DoctorOptions, add func(level, format string, a ...any)) {
	devs, err := ProbeDevices(ctx)
	if err != nil {
		add(LevelFail, "cannot list the NeuronCores: %v", err)
		return
	}
	var all []int
	for _, d := range devs {
		all = append(all, d.Cores...)
	}
	if len(all) == 0 {
		add(LevelFail, "neuron-ls lists no NeuronCore: is this an Inferentia host with the Neuron driver loaded?")
		return
	}
	want := o.Cores
	if len(want) == 0 {
		want = all
	}
	for _, c := range want {
		if !slices.Contains(all, c) {
			add(LevelFail, "server.neuron_cores asks for NeuronCore %d, but this host has %s", c, coreList(all))
			return
		}
	}
	if o.TP > len(want) {
		add(LevelFail, "tensor_parallel_size %d needs %d NeuronCores, but the sweep may use %d (%s)", o.TP, o.TP, len(want), coreList(want))
	}
	busy := false
	for _, d := range devs {
		if len(d.Processes) == 0 {
			continue
		}
		needed := slices.ContainsFunc(d.Cores, func(c int) bool { return slices.Contains(want, c) })
		for _, p := range d.Processes {
			held := fmt.Sprintf("NeuronCores %s (device %d) are held by pid %d (%s)", coreList(d.Cores), d.Index, p.PID, or(p.Command, "command unknown"))
			if needed {
				busy = true
				add(LevelFail, "%s: the sweep needs them; stop that process", held)
			} else {
				add(LevelNote, "%s", held)
			}
		}
	}
	if !busy {
		add(LevelOK, "NeuronCores %s on %d device(s); the sweep's cores (%s) are free", coreList(all), len(devs), coreList(want))
	}
}

// coreList renders core ids as "0-1" or "0,2,3".
func coreList(cores []int) string {
	if len(cores) == 0 {
		return "none"
	}
	s := slices.Sorted(slices.Values(cores))
	contiguous := s[len(s)-1]-s[0] == len(s)-1
	if contiguous && len(s) > 1 {
		return fmt.Sprintf("%d-%d", s[0], s[len(s)-1])
	}
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, ",")
}

// freeBytes is FreeBytes; tests replace it.
var freeBytes = FreeBytes

// doctorDisk reports the free space under the compiled-artifacts root.
func doctorDisk(o DoctorOptions, add func(level, format string, a ...any)) {
	free, at, err := freeBytes(o.ArtifactsRoot)
	if err != nil {
		add(LevelWarn, "cannot measure free disk under %s: %v", o.ArtifactsRoot, err)
		return
	}
	gib := float64(free) / (1 << 30)
	switch {
	case free < minFreeBytes:
		add(LevelFail, "%.1f GiB free under %s (%s): compiled artifacts need several GiB per configuration; free space or set server.compiled_artifacts", gib, o.ArtifactsRoot, at)
	case free < warnFreeBytes:
		add(LevelWarn, "%.1f GiB free under %s (%s): enough for a few configurations only", gib, o.ArtifactsRoot, at)
	default:
		add(LevelOK, "%.1f GiB free under %s", gib, o.ArtifactsRoot)
	}
}

// doctorModel checks the model directory: a local directory with a config
// and a tokenizer (a Hub id is a warning).
func doctorModel(o DoctorOptions, add func(level, format string, a ...any)) {
	st, err := os.Stat(o.Model)
	switch {
	case err != nil && o.HubID:
		add(LevelWarn, "model %q is a Hugging Face id, not a directory: serve a local copy (a Hub id fails on Neuron for models with tied embeddings, \"Cannot copy out of meta tensor\")", o.Model)
		return
	case err != nil:
		add(LevelFail, "model %s: %v", o.Model, err)
		return
	case !st.IsDir():
		add(LevelFail, "model %s is not a directory", o.Model)
		return
	}
	has := func(names ...string) string {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(o.Model, n)); err == nil {
				return n
			}
		}
		return ""
	}
	var missing []string
	config := has("config.json")
	if config == "" {
		add(LevelFail, "model %s has no config.json: vLLM cannot load it", o.Model)
	}
	tok := has("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")
	if tok == "" {
		missing = append(missing, "a tokenizer (tokenizer.json, tokenizer_config.json, vocab.json)")
	}
	weights, _ := filepath.Glob(filepath.Join(o.Model, "*.safetensors"))
	if len(weights) == 0 {
		if bins, _ := filepath.Glob(filepath.Join(o.Model, "*.bin")); len(bins) == 0 {
			missing = append(missing, "weights (*.safetensors, *.bin)")
		}
	}
	if len(missing) > 0 {
		add(LevelWarn, "model %s lacks %s", o.Model, strings.Join(missing, " and "))
	} else if config != "" {
		add(LevelOK, "model %s: %s, %s, weights", o.Model, config, tok)
	}
}
