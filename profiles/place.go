package profiles

import (
	"slices"
	"strconv"
	"strings"
)

// Place returns c run on core group cores and port port: its
// NEURON_RT_VISIBLE_CORES and --port change, nothing else. The artifacts
// directory stays, since its key leaves cores and port out: a
// configuration compiles once whichever group runs it. A remote server
// (server.url) is returned as it is.
func (c Config) Place(cores CoreSet, port int) Config {
	if c.Server.URL != "" {
		return c
	}
	c.Server.Port = port
	c.Server.Argv = slices.Clone(c.Server.Argv)
	if i := slices.Index(c.Server.Argv, "--port"); i >= 0 && i+1 < len(c.Server.Argv) {
		c.Server.Argv[i+1] = strconv.Itoa(port)
	}
	env := make([]string, 0, len(c.Server.Env)+1)
	for _, kv := range c.Server.Env {
		if !strings.HasPrefix(kv, EnvVisibleCores+"=") {
			env = append(env, kv)
		}
	}
	if cores != "" {
		env = append(env, EnvVisibleCores+"="+string(cores))
	}
	slices.Sort(env)
	c.Server.Env = env
	return c
}
