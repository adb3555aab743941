package servertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/server"
	"loadgen/server/sim"
)

// ReadStartup reads the startup record of config in the results directory
// dir (schema.ReadStartup), failing the test when it cannot.
func ReadStartup(t testing.TB, dir, config string) schema.Startup {
	t.Helper()
	st, err := schema.ReadStartup(dir, config)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// AssertServerGone checks that no process of config's server is left in
// the results directory dir: the pid its startup.json records (the
// server's process group) is not alive and leads no group with live
// members.
func AssertServerGone(t testing.TB, dir, config string) {
	t.Helper()
	st := ReadStartup(t, dir, config)
	if st.PID <= 0 {
		t.Errorf("config %s: startup.json records no pid", config)
		return
	}
	if server.ProcessAlive(st.PID) {
		t.Errorf("config %s: server pid %d is still alive", config, st.PID)
	}
	if server.GroupAlive(st.PID) {
		t.Errorf("config %s: process group %d still has live members", config, st.PID)
	}
}

// WriteStaleArtifacts leaves the simulator's compiled-artifacts marker of
// another configuration in dir: with blockKV, block KV layout without
// prefix caching (the simulated plugin loads it in place of the override
// and crashes with NxDI's k_shape AttributeError); without, a valid
// configuration it runs while logging that the override is ignored.
func WriteStaleArtifacts(t testing.TB, dir string, blockKV bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := map[string]any{
		"simulator":   "loadgen sim (stale marker written by the test)",
		"config_hash": "0123456789abcdef0123456789abcdef",
		"model":       "/models/Qwen3-Reranker-0.6B",
		"neuron_config": map[string]any{
			"tp_degree": 1, "batch_size": 2, "max_context_length": 1024, "seq_len": 1024,
			"is_block_kv_layout": blockKV, "is_prefix_caching": false, "pa_num_blocks": 2, "pa_block_size": 32,
			"buckets": map[string]any{"context_encoding": []int{1024}, "token_generation": []int{1024}},
		},
	}
	b, err := json.Marshal(marker)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sim.MarkerFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
