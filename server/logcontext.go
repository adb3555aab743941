package server

import (
	"encoding/json"
	"fmt"
	"strings"

	"loadgen/loadgen/schema"
	"loadgen/server/neuron"
)

// logContext is what the log classifier knows about the server it
// watches: the stack whose rules apply and the override_neuron_config keys
// its command line wrote.
type logContext struct {
	stack   *neuron.Stack
	written map[string]bool
}

// contextOf builds the classifier's context of a server: cfg.Stack (the
// default stack when empty or unknown) and the keys of
// override_neuron_config in the --additional-config argument.
func contextOf(cfg Config) logContext {
	st, err := neuron.Lookup(cfg.Stack)
	if err != nil {
		st = neuron.Default()
	}
	return logContext{stack: st, written: overrideKeys(cfg.Argv)}
}

// overrideKeys returns the keys of override_neuron_config in argv's
// --additional-config JSON (vLLM also accepts --additional_config and the
// =value form; the last occurrence wins, as with argparse).
func overrideKeys(argv []string) map[string]bool {
	var raw string
	for i, a := range argv {
		name, val, inline := strings.Cut(a, "=")
		if strings.ReplaceAll(name, "_", "-") != "--additional-config" {
			continue
		}
		switch {
		case inline:
			raw = val
		case i+1 < len(argv):
			raw = argv[i+1]
		}
	}
	var top struct {
		Override map[string]json.RawMessage `json:"override_neuron_config"`
	}
	if raw == "" || json.Unmarshal([]byte(raw), &top) != nil {
		return nil
	}
	keys := make(map[string]bool, len(top.Override))
	for k := range top.Override {
		keys[k] = true
	}
	return keys
}

// judgeUnexpected reads NxDI's "NeuronConfig init: Unexpected keyword
// arguments: {...}" by its keys (package neuron decides what each key is):
//
//   - a key the profile wrote that the stack's NeuronConfig does not apply
//     voids the run (invalid_config): NxDI ignored it;
//   - keys NxDI applies although it lists them (2.26 pops them late) and
//     its own derived attributes (passed back when it reloads a saved
//     neuron_config.json, i.e. reuses compiled artifacts) are a note;
//   - any other key is a warning that does not void the run.
func judgeUnexpected(m []string, x logContext) (schema.FailureClass, string) {
	keys, complete := neuron.DictKeys(m[1])
	if len(keys) == 0 && !complete {
		return schema.WarningNeuronConfig, fmt.Sprintf("NxDI listed keyword arguments it did not expect, but loadgen could not read them (%s); read the line in server.log", clip(m[1], 120))
	}
	st := x.stack
	u := st.ClassifyUnexpected(keys, func(k string) bool { return x.written[k] })
	var parts []string
	if len(u.Typos) > 0 {
		var each []string
		for _, k := range u.Typos {
			s := k
			if hint := st.Suggest(k); hint != "" && hint != k {
				s += " (did you mean " + hint + "?)"
			}
			each = append(each, s)
		}
		parts = append(parts, fmt.Sprintf("override_neuron_config key %s is not a NeuronConfig field of NxDI %s (stack %s), so NxDI ignored it and this run does not measure the intended config: fix it in neuron_config",
			strings.Join(each, ", "), st.NxDI, st.Name))
	}
	if len(u.Late) > 0 {
		parts = append(parts, fmt.Sprintf("%s applied although listed (NxDI %s pops it after its unknown-key check; %s L%d)",
			strings.Join(u.Late, ", "), st.NxDI, st.Source(), st.WarningLine()))
	}
	if len(u.Derived) > 0 {
		parts = append(parts, fmt.Sprintf("%s are NxDI's own attributes, passed back when it reloaded a saved neuron_config.json (reuse of compiled artifacts): expected",
			strings.Join(u.Derived, ", ")))
	}
	if len(u.Other) > 0 {
		parts = append(parts, fmt.Sprintf("%s not in loadgen's table of NxDI %s and not written by the profile (set by model code, or a newer NxDI): check server.log",
			strings.Join(u.Other, ", "), st.NxDI))
	}
	if len(u.Applied) > 0 {
		parts = append(parts, fmt.Sprintf("%s listed although NxDI %s applies it before the check: the server does not run stack %s (set server.stack, or run loadgen doctor)",
			strings.Join(u.Applied, ", "), st.NxDI, st.Name))
	}
	if !complete {
		parts = append(parts, "the line was cut short, so more keys may follow")
	}
	class := schema.NoteNeuronConfig
	switch {
	case len(u.Typos) > 0:
		class = schema.FailureInvalidConfig
	case len(u.Other) > 0 || len(u.Applied) > 0 || !complete:
		class = schema.WarningNeuronConfig
	}
	return class, strings.Join(parts, "; ")
}
