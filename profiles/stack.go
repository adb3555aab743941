package profiles

import (
	"fmt"
	"strconv"
	"strings"

	"loadgen/server/neuron"
)

// The vllm-neuron stack a plan is checked and run against. Its rules live
// in package neuron; this file applies them to a profile's settings.

// StackChoice is the vllm-neuron stack a plan runs on and how it was
// chosen.
type StackChoice struct {
	// Stack is the stack whose rules apply; nil when it is not known (the
	// checks then hold for every supported stack).
	Stack *neuron.Stack
	// Source says how it was chosen: "simulated", "detected",
	// "server.stack", ….
	Source string
	// Versions are the package versions found on the host and Env the
	// Python environment they were read from (zero when not probed).
	Versions neuron.Versions
	Env      string
	// Notes say what the choice could not settle, one line each (shown
	// with the plan's warnings).
	Notes []string
	// Problems say what the host probe could not read (recorded, not
	// shown with the plan: loadgen doctor explains them).
	Problems []string
}

// stackFor returns the stack the plan runs on: the caller's choice
// (detected on the host, or simulated), unless the profile names a stack
// in server.stack, which wins over detection (not over simulation).
func (p *Profile) stackFor(opts ExpandOptions) StackChoice {
	c := opts.Stack
	if c.Source == StackSimulated {
		return c
	}
	if st, err := neuron.Lookup(p.Server.Stack); err == nil {
		if c.Stack != nil && c.Stack != st {
			c.Notes = append(c.Notes, fmt.Sprintf("server.stack says %s but the host's versions match stack %s: the profile wins", st.Name, c.Stack.Name))
		}
		c.Stack, c.Source = st, "server.stack"
	}
	return c
}

// StackSimulated is StackChoice.Source for the simulator's stack.
const StackSimulated = "simulated"

// RulesStack is the stack whose plugin behaviour the plan reports: Stack,
// or the default stack when none is known.
func (pl *Plan) RulesStack() *neuron.Stack {
	if pl.Stack.Stack != nil {
		return pl.Stack.Stack
	}
	return neuron.Default()
}

// StackLine says in one line which stack's rules apply and why.
func (pl *Plan) StackLine() string {
	c := pl.Stack
	if c.Stack == nil {
		return fmt.Sprintf("stack: not known (server.stack auto, not detected): neuron_config keys are checked against every supported stack (%s); plugin overrides are stack %s's",
			strings.Join(neuron.Names(), ", "), neuron.DefaultName)
	}
	line := fmt.Sprintf("stack %s, %s", c.Stack, c.Source)
	if !c.Versions.Empty() {
		line += fmt.Sprintf(" (%s in %s)", c.Versions, c.Env)
	}
	return line
}

// neuronFields checks every free neuron_config key against the NeuronConfig
// fields of the stack (or of every supported stack when the stack is not
// known): a key NxDI would not apply is an error, because NxDI only logs
// "Unexpected keyword arguments" and runs without it.
func (c *check) neuronFields() {
	stacks := neuron.All()
	if c.stack != nil {
		stacks = []*neuron.Stack{c.stack}
	}
	for _, k := range sortedKeys(c.s.NeuronConfig) {
		if strings.Contains(k, "-") || managedNeuronKeys[k] != "" {
			continue // checkSettings reports these
		}
		var applies, moe, not []string
		fields := map[string]bool{}
		for _, st := range stacks {
			switch st.Kind(k) {
			case neuron.KeyAccepted, neuron.KeyLate:
				applies = append(applies, st.Name)
			case neuron.KeyMoE:
				moe = append(moe, st.Name)
				not = append(not, st.Name)
			default:
				not = append(not, st.Name)
			}
			for _, f := range st.Fields() {
				fields[f] = true
			}
		}
		path := c.mapKeyPath("neuron_config", k)
		switch {
		case len(not) == 0:
		case len(applies) > 0:
			c.warnAt(path, "is a NeuronConfig field on stack %s but not on stack %s, whose NxDI ignores it (\"Unexpected keyword arguments\"): set server.stack, or check the key",
				strings.Join(applies, ", "), strings.Join(not, ", "))
		case len(moe) > 0:
			c.warnAt(path, "is applied only by mixture-of-experts models (MoENeuronConfig); a dense model's NxDI ignores it (\"Unexpected keyword arguments\")")
		default:
			var names []string
			for _, st := range stacks {
				names = append(names, "NxDI "+st.NxDI+" (stack "+st.Name+")")
			}
			msg := fmt.Sprintf("is not a NeuronConfig field of %s: NxDI would only log \"Unexpected keyword arguments\" and run without it, so the results would not measure it",
				strings.Join(names, " or "))
			if hint := neuron.Closest(k, sortedKeys(fields)); hint != "" {
				msg += "; did you mean " + hint + "?"
			}
			c.errorAt(path, "%s", msg)
		}
	}
}

// overrides lists, one line each, the settings of s that the stack's plugin
// replaces (package neuron), so that the dry run, command.txt and the
// report say what the server really runs with.
func (p *Profile) overrides(st *neuron.Stack, s Settings) []string {
	off := false
	for _, env := range []map[string]string{p.Server.Env, s.Env} {
		if v, ok := env["DISABLE_NEURON_CUSTOM_SCHEDULER"]; ok {
			n, err := strconv.Atoi(v)
			off = err == nil && n != 0
		}
	}
	var out []string
	for _, o := range st.Overrides(neuron.Flags{
		MaxModelLen: s.ModelLen(), MaxNumBatchedTokens: deref(s.MaxNumBatchedTokens), BlockSize: deref(s.BlockSize),
		PrefixCaching: s.PrefixCaching(), CustomSchedulerOff: off,
	}) {
		out = append(out, fmt.Sprintf("vllm-neuron %s (stack %s) replaces %s", st.Plugin, st.Name, o))
	}
	return out
}
