package profiles

import (
	"slices"
	"strings"
	"testing"
)

func TestCoreGroups(t *testing.T) {
	const base = "base:\n  max_model_len: 2048\n"
	p := mustParse(t, minimal+base+"server:\n  neuron_cores: [\"0-1\", \"2-3\"]\n")
	if len(p.Server.NeuronCores) != 2 || p.Server.NeuronCores[1] != "2-3" || !slices.Equal(p.Server.NeuronCores.IDs(), []int{0, 1, 2, 3}) {
		t.Fatalf("groups %v", p.Server.NeuronCores)
	}
	one := mustParse(t, minimal+base+"server:\n  neuron_cores: \"0-1\"\n")
	if b, _ := one.Server.NeuronCores.MarshalJSON(); string(b) != `"0-1"` {
		t.Errorf("one group encodes as %s, want the plain string it always was (the profile hash)", b)
	}
	c := expand(t, p).Configs[0]
	if !slices.Contains(c.Server.Env, "NEURON_RT_VISIBLE_CORES=0-1") {
		t.Errorf("a plan runs on the first group: %q", c.Server.Env)
	}
	moved := c.Place("2-3", 8001)
	if !slices.Contains(moved.Server.Env, "NEURON_RT_VISIBLE_CORES=2-3") || slices.Contains(moved.Server.Env, "NEURON_RT_VISIBLE_CORES=0-1") ||
		moved.Server.Port != 8001 || moved.Server.Argv[slices.Index(moved.Server.Argv, "--port")+1] != "8001" || moved.ArtifactsDir != c.ArtifactsDir {
		t.Errorf("placed on 2-3:8001: env %q port %d argv %q artifacts %s", moved.Server.Env, moved.Server.Port, moved.Server.Argv, moved.ArtifactsDir)
	}
	if !slices.Contains(c.Server.Env, "NEURON_RT_VISIBLE_CORES=0-1") || c.Server.Port == 8001 {
		t.Error("Place changed the config it was given")
	}

	// Groups that share a core, a group smaller than TP, an unknown
	// measure: refused with the key's line.
	for _, tc := range []struct{ server, want string }{
		{`neuron_cores: ["0-1", "1-2"]`, `p.yaml:9: server.neuron_cores[1]: core 1 is in group "0-1" and in group "1-2"`},
		{`neuron_cores: ["0-1", "2"]`, `server.neuron_cores: "2" is a core group of 1 NeuronCore(s) but tensor_parallel_size is 2`},
		{`neuron_cores: []`, `server.neuron_cores: an empty list of core groups`},
		{"measure: sometimes", `server.measure: "sometimes": want concurrent`},
	} {
		_, err := Parse([]byte(minimal+base+"server:\n  "+tc.server+"\n"), "p.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.server, err, tc.want)
		}
	}
}
