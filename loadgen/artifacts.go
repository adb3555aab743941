package loadgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// artifactsRecordFile is written into a configuration's
// NEURON_COMPILED_ARTIFACTS directory once its server was ready: what the
// artifacts there were compiled for.
//
// vllm-neuron logs "Using pre-compiled artifacts, override_neuron_config
// will be ignored" on every start that finds artifacts and passes overrides
// (vllm-project/vllm-neuron 0.2.0 vllm_neuron/worker/
// neuronx_distributed_model_loader.py L214–226, the same in 0.2.2+lts). Because loadgen keys
// the directory by a hash of everything that changes the graphs, that is
// normally the expected cache hit. It voids the run only when the artifacts
// were compiled for something else: a record that differs, or artifacts that
// loadgen did not record (a directory shared by hand).
const artifactsRecordFile = "loadgen-artifacts.json"

type artifactsRecord struct {
	Config string `json:"config"`
	// Key is the directory's name: <config>-<hash of everything that
	// changes the compiled graphs>.
	Key              string `json:"key"`
	AdditionalConfig string `json:"additional_config"`
	// ServerVersion is what the server's GET /version said: the directory
	// key cannot include the vLLM/vllm-neuron version, so a record made
	// under another version does not vouch for the artifacts.
	ServerVersion string `json:"server_version,omitempty"`
	// CompilerEnv holds the inherited environment that changes compiled
	// graphs without being in the profile (NEURON_CC_FLAGS, …).
	CompilerEnv []string `json:"compiler_env,omitempty"`
	// Stack is the vllm-neuron stack the artifacts were compiled under
	// (package neuron): the server version alone does not tell NxDI 2.26
	// from 2.27, which both run vLLM 0.11.0. A record written before it
	// existed vouches for any stack.
	Stack string `json:"stack,omitempty"`
}

// recordOf is the record of a configuration started with server version
// version in this process's environment.
func recordOf(c profiles.Config, version string) artifactsRecord {
	return artifactsRecord{
		Config:           c.Name,
		Key:              filepath.Base(c.ArtifactsDir),
		AdditionalConfig: c.AdditionalConfig,
		ServerVersion:    version,
		CompilerEnv:      compilerEnv(os.Environ(), c.Server.Env),
		Stack:            c.Server.Stack,
	}
}

// compilerEnv returns the NEURON_* variables (but the runtime's
// NEURON_RT_*, and NEURON_COMPILED_ARTIFACTS itself) that the server
// inherits, sorted: the config's own env overrides the inherited one.
func compilerEnv(inherited, own []string) []string {
	vars := map[string]string{}
	for _, kv := range append(append([]string{}, inherited...), own...) {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "NEURON_") && !strings.HasPrefix(k, "NEURON_RT_") && k != "NEURON_COMPILED_ARTIFACTS" {
			vars[k] = kv
		}
	}
	out := make([]string, 0, len(vars))
	for _, kv := range vars {
		out = append(out, kv)
	}
	sort.Strings(out)
	return out
}

// artifactsMatch reports whether the artifacts directory records exactly
// this configuration, compiled under this server version and environment.
func artifactsMatch(c profiles.Config, version string) bool {
	if c.ArtifactsDir == "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(c.ArtifactsDir, artifactsRecordFile))
	if err != nil {
		return false
	}
	want := recordOf(c, version)
	var got artifactsRecord
	if json.Unmarshal(b, &got) != nil {
		return false
	}
	if got.Stack == "" {
		got.Stack = want.Stack
	}
	a, err1 := json.Marshal(got)
	b2, err2 := json.Marshal(want)
	return err1 == nil && err2 == nil && bytes.Equal(a, b2)
}

// recordArtifacts writes the record after a successful start.
func recordArtifacts(c profiles.Config, version string) {
	if c.ArtifactsDir == "" {
		return
	}
	if err := os.MkdirAll(c.ArtifactsDir, 0o755); err != nil {
		return
	}
	b, err := json.Marshal(recordOf(c, version))
	if err != nil {
		return
	}
	_ = schema.WriteFileAtomic(filepath.Join(c.ArtifactsDir, artifactsRecordFile), b)
}
