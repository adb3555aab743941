package sim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// MarkerFile is the file the simulator writes into NEURON_COMPILED_ARTIFACTS
// after a "compile"; its presence makes the next start a cache hit.
const MarkerFile = "loadgen-sim-artifacts.json"

// artifactMarker records what was "compiled": the hash of the
// configuration and the NeuronConfig, which a later start with a different
// configuration inherits (the plugin ignores override_neuron_config when it
// loads pre-compiled artifacts).
type artifactMarker struct {
	Simulator string       `json:"simulator"`
	Hash      string       `json:"config_hash"`
	Neuron    NeuronConfig `json:"neuron_config"`
	Model     string       `json:"model"`
	Created   time.Time    `json:"created"`
}

// configHash is the md5 of everything that changes the compiled graphs, as
// the plugin hashes its NxDI config.
func configHash(o Options, cfg resolved) string {
	b, _ := json.Marshal(struct {
		Model       string       `json:"model"`
		MaxModelLen int          `json:"max_model_len"`
		BlockSize   int          `json:"block_size"`
		NumBlocks   int          `json:"num_blocks"`
		Neuron      NeuronConfig `json:"neuron_config"`
	}{o.Model, o.MaxModelLen, cfg.BlockSize, cfg.NumBlocks, cfg.Neuron})
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// artifactsPath is where the plugin looks for compiled artifacts.
func artifactsPath(o Options, hash string) string {
	if o.CompiledArtifacts != "" {
		return o.CompiledArtifacts
	}
	return filepath.Join(o.Model, "neuron-compiled-artifacts", hash)
}

// readMarker reads the marker in dir; ok is false when there is none.
func readMarker(dir string) (m artifactMarker, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, MarkerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read compiled-artifacts marker: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false, fmt.Errorf("compiled-artifacts marker %s: %w", filepath.Join(dir, MarkerFile), err)
	}
	if l := m.Neuron.Buckets; len(l.CTE) == 0 || len(l.TKG) == 0 {
		// Unusable artifacts: the plugin recompiles (it catches the
		// ValueError of the load, loader L185–194).
		return m, false, fmt.Errorf("compiled-artifacts marker %s holds no bucket ladder", filepath.Join(dir, MarkerFile))
	}
	return m, true, nil
}

// writeMarker writes the marker atomically (temp file + rename).
func writeMarker(dir string, m artifactMarker) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compiled-artifacts directory: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode compiled-artifacts marker: %w", err)
	}
	tmp, err := os.CreateTemp(dir, MarkerFile+".*")
	if err != nil {
		return fmt.Errorf("write compiled-artifacts marker: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write compiled-artifacts marker: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write compiled-artifacts marker: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, MarkerFile)); err != nil {
		return fmt.Errorf("write compiled-artifacts marker: %w", err)
	}
	return nil
}
