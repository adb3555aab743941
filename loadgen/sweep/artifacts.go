package sweep

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"loadgen/loadgen/report"
	"loadgen/profiles"
	"loadgen/server"
)

// artifactsRecordFile is written into a configuration's
// NEURON_COMPILED_ARTIFACTS directory once its server was ready: what the
// artifacts there were compiled for.
//
// vllm-neuron logs "Using pre-compiled artifacts, override_neuron_config
// will be ignored" on every start that finds artifacts. Because loadgen keys
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
}

func recordOf(c profiles.Config) artifactsRecord {
	return artifactsRecord{Config: c.Name, Key: filepath.Base(c.ArtifactsDir), AdditionalConfig: c.AdditionalConfig}
}

// artifactsMatch reports whether the artifacts directory records exactly
// this configuration.
func artifactsMatch(c profiles.Config) bool {
	if c.ArtifactsDir == "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(c.ArtifactsDir, artifactsRecordFile))
	if err != nil {
		return false
	}
	want, err := json.Marshal(recordOf(c))
	if err != nil {
		return false
	}
	return bytes.Equal(bytes.TrimSpace(b), want)
}

// recordArtifacts writes the record after a successful start.
func recordArtifacts(c profiles.Config) {
	if c.ArtifactsDir == "" {
		return
	}
	if err := os.MkdirAll(c.ArtifactsDir, 0o755); err != nil {
		return
	}
	b, err := json.Marshal(recordOf(c))
	if err != nil {
		return
	}
	_ = report.WriteFileAtomic(filepath.Join(c.ArtifactsDir, artifactsRecordFile), b)
}

// isOverrideIgnored reports whether a finding is the plugin's "override
// ignored" line.
func isOverrideIgnored(f server.LogFinding) bool {
	return strings.Contains(f.Line, "override_neuron_config will be ignored")
}
