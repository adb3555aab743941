package loadgen

import (
	"context"
	"fmt"
	"strings"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
	"loadgen/server/neuron"
)

// chooseStack determines the vllm-neuron stack a sweep runs on, before
// anything starts: under --simulate the simulated stack (--sim-stack, else
// the profile's server.stack, else the default);
// against a server loadgen launches, the stack whose versions the Python
// environment of the server command holds (server.DetectStack, the probe
// loadgen doctor uses); a remote server cannot be probed. server.stack in
// the profile wins over detection (profiles.Profile.stackFor).
func chooseStack(o Options) (profiles.StackChoice, error) {
	if o.Simulate {
		name := o.Sim.Stack
		if name == "" && o.Profile.Server.Stack != profiles.StackAuto {
			name = o.Profile.Server.Stack
		}
		if name == "" {
			name = neuron.DefaultName
		}
		st, err := neuron.Lookup(name)
		if err != nil {
			return profiles.StackChoice{}, fmt.Errorf("%w: --sim-stack: %w", ErrBadInput, err)
		}
		return profiles.StackChoice{Stack: st, Source: profiles.StackSimulated}, nil
	}
	p := o.Profile
	if p.Server.URL != "" || len(p.Server.Command) == 0 {
		return profiles.StackChoice{}, nil
	}
	st, env, notes, ok := server.DetectStack(context.Background(), p.Server.Command[0])
	c := profiles.StackChoice{Versions: env.Versions, Env: env.Prefix, Notes: notes, Problems: env.Problems}
	if ok {
		c.Stack, c.Source = st, "detected"
	}
	return c, nil
}

// stackInfo is the manifest's record of the stack.
func stackInfo(c profiles.StackChoice) *schema.StackInfo {
	info := &schema.StackInfo{Source: c.Source, Env: c.Env, Notes: append(append([]string{}, c.Notes...), c.Problems...)}
	if c.Stack != nil {
		info.Name = c.Stack.Name
	} else {
		info.Name = neuron.DefaultName
		info.Source = "default (not detected)"
	}
	v := c.Versions
	for _, kv := range [][2]string{{neuron.DistVLLM, v.VLLM}, {neuron.DistPlugin, v.Plugin}, {neuron.DistNxDI, v.NxDI}, {neuron.DistCompiler, v.Compiler}} {
		if kv[1] != "" {
			if info.Versions == nil {
				info.Versions = map[string]string{}
			}
			info.Versions[kv[0]] = kv[1]
		}
	}
	return info
}

// stackWarning is the sweep's warning when the stack is not known.
func stackWarning(c profiles.StackChoice) string {
	if c.Stack != nil || c.Source == profiles.StackSimulated {
		return ""
	}
	why := "the server is remote"
	if len(c.Problems) > 0 {
		why = strings.Join(c.Problems, "; ")
	} else if !c.Versions.Empty() {
		why = c.Versions.String() + " match no supported stack (" + strings.Join(neuron.Names(), ", ") + ")"
	}
	return fmt.Sprintf("cannot tell the vllm-neuron stack (%s): log lines are read with stack %s's rules; set server.stack, or run loadgen doctor", why, neuron.DefaultName)
}
