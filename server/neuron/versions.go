package neuron

import (
	"fmt"
	"strings"
)

// Python distribution names of the stack's packages, as pip and
// importlib.metadata know them.
const (
	DistVLLM     = "vllm"
	DistPlugin   = "vllm-neuron"
	DistNxDI     = "neuronx-distributed-inference"
	DistCompiler = "neuronx-cc"
)

// Versions are the package versions found in one Python environment ("" for
// a package that is not installed).
type Versions struct {
	VLLM     string `json:"vllm,omitempty"`
	Plugin   string `json:"vllm_neuron,omitempty"`
	NxDI     string `json:"neuronx_distributed_inference,omitempty"`
	Compiler string `json:"neuronx_cc,omitempty"`
}

// Empty reports whether no version is known.
func (v Versions) Empty() bool { return v == Versions{} }

// String lists the known versions, e.g. "vllm 0.11.0, vllm-neuron
// 0.2.2+lts, neuronx-distributed-inference 0.7.14366, neuronx-cc 2.21".
func (v Versions) String() string {
	var parts []string
	for _, p := range []struct{ name, v string }{
		{DistVLLM, v.VLLM}, {DistPlugin, v.Plugin}, {DistNxDI, v.NxDI}, {DistCompiler, v.Compiler},
	} {
		if p.v == "" {
			p.v = "not installed"
		}
		parts = append(parts, p.name+" "+p.v)
	}
	return strings.Join(parts, ", ")
}

// Match picks the stack whose rules apply to the detected versions. NxDI
// decides (its NeuronConfig owns the key rules; a release's NxDI builds
// share the "0.<minor>." prefix, e.g. 0.7.14366 for SDK 2.27), else the
// plugin version. notes say where the versions differ from the stack's;
// ok is false when nothing matches (the caller then warns and uses
// Default()).
func Match(v Versions) (st *Stack, notes []string, ok bool) {
	for _, s := range stacks {
		if v.NxDI != "" && sameRelease(v.NxDI, s.NxDI) {
			st = s
			break
		}
	}
	if st == nil && v.NxDI == "" {
		for _, s := range stacks {
			if v.Plugin != "" && localBase(v.Plugin) == localBase(s.Plugin) {
				st = s
				break
			}
		}
	}
	if st == nil {
		return nil, nil, false
	}
	if v.Plugin != "" && localBase(v.Plugin) != localBase(st.Plugin) {
		notes = append(notes, fmt.Sprintf("vllm-neuron %s is not the %s that stack %s ships", v.Plugin, st.Plugin, st.Name))
	}
	if v.VLLM != "" && localBase(v.VLLM) != st.VLLM {
		notes = append(notes, fmt.Sprintf("vllm %s is not the %s that stack %s pins", v.VLLM, st.VLLM, st.Name))
	}
	return st, notes, true
}

// sameRelease reports whether version v is a build of the same NxDI release
// as ref: equal "0.<minor>." prefixes.
func sameRelease(v, ref string) bool {
	i := strings.Index(ref[2:], ".")
	if !strings.HasPrefix(ref, "0.") || i < 0 {
		return v == ref
	}
	return strings.HasPrefix(v, ref[:i+3])
}

// localBase drops a PEP 440 local part other than the plugin's "+lts":
// "0.11.0+neuron" → "0.11.0".
func localBase(v string) string {
	if base, local, ok := strings.Cut(v, "+"); ok && local != "lts" {
		return base
	}
	return v
}
