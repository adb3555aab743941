package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ManifestFile is the name of the manifest in a results directory.
const ManifestFile = "manifest.json"

// ManifestSchemaVersion is the current Manifest.SchemaVersion.
const ManifestSchemaVersion = 1

// Sweep statuses (Manifest.Status).
const (
	SweepRunning     = "running"
	SweepCompleted   = "completed"
	SweepFailed      = "failed"
	SweepInterrupted = "interrupted"
)

// Config and phase statuses (ConfigStatus.Status, PhaseStatus.Status).
const (
	StatusPending     = "pending"
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
)

// Prefix-cache reset outcomes (ConfigStatus.PrefixCacheReset).
const (
	ResetOK          = "ok"          // POST /reset_prefix_cache succeeded before every phase
	ResetUnsupported = "unsupported" // the server refused it (no VLLM_SERVER_DEV_MODE: 404/405, remote server, …)
	ResetFailed      = "failed"      // a reset did not get an answer (transient error, server gone)
)

// Manifest is manifest.json: what was run, where, when, and the status of
// every configuration and phase. The sweep writes it (with WriteJSONAtomic)
// when it starts and after every change of status, so a crashed or
// interrupted sweep still leaves an accurate record.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	Profile       string `json:"profile"` // the profile's name
	ProfilePath   string `json:"profile_path"`
	// ProfileHash identifies the resolved profile; --resume refuses when it
	// changed.
	ProfileHash string `json:"profile_hash"`
	// ResolvedProfile is the profile after defaults and matrix expansion.
	ResolvedProfile json.RawMessage `json:"resolved_profile,omitempty"`
	// Inputs are the files the sweep read besides the profile (the
	// dataset), each with a hash of its content; --resume refuses when one
	// changed, as it refuses a changed profile. Manifests written before
	// this field existed have none, and nothing to compare.
	Inputs         []InputFile `json:"inputs,omitempty"`
	LoadgenVersion string      `json:"loadgen_version"`
	Host           HostInfo    `json:"host"`
	// Simulated is true when the server was loadgen's simulator; every
	// output then says SIMULATED.
	Simulated bool     `json:"simulated"`
	Sim       *SimInfo `json:"sim,omitempty"`
	// Stack is the vllm-neuron stack whose rules loadgen applied and the
	// versions it found (absent in manifests written before it existed).
	Stack     *StackInfo `json:"stack,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   time.Time  `json:"ended_at,omitzero"`
	// Status is one of SweepRunning, SweepCompleted, SweepFailed,
	// SweepInterrupted.
	Status string `json:"status"`
	// Shard is set when the sweep ran one shard of its configurations
	// (sweep --shard); nil for a whole sweep and for a merged one.
	Shard *Shard `json:"shard,omitempty"`
	// MergedFrom lists the result directories `loadgen merge` joined into
	// this one, in the order given.
	MergedFrom []MergedPart   `json:"merged_from,omitempty"`
	Configs    []ConfigStatus `json:"configs"`
}

// MergedPart describes one result directory a merge joined.
type MergedPart struct {
	// Dir is the directory as the merge was given it.
	Dir string `json:"dir"`
	// Shard is the part's shard (nil: it was not a shard).
	Shard          *Part     `json:"shard,omitempty"`
	Host           HostInfo  `json:"host"`
	LoadgenVersion string    `json:"loadgen_version"`
	StartedAt      time.Time `json:"started_at"`
	EndedAt        time.Time `json:"ended_at,omitzero"`
	Status         string    `json:"status"`
	// Configs are the configurations it held.
	Configs []string `json:"configs"`
}

// Tally counts a sweep's configurations by outcome.
type Tally struct {
	// Passed ran every phase ok; Failed did not start, failed a phase, or
	// ran but a finding voids its results; Interrupted were stopped;
	// Skipped never started.
	Passed, Failed, Interrupted, Skipped int
}

// Tally counts the configurations by outcome.
func (m *Manifest) Tally() Tally {
	var t Tally
	for _, c := range m.Configs {
		switch c.Status {
		case StatusOK:
			if c.FailureClass != "" {
				t.Failed++ // ran, but a finding voids its results
			} else {
				t.Passed++
			}
		case StatusFailed:
			t.Failed++
		case StatusInterrupted:
			t.Interrupted++
		default:
			t.Skipped++
		}
	}
	return t
}

// SweepStatus is the status of a sweep that ended with this tally:
// SweepInterrupted when it was stopped, else SweepFailed when a
// configuration failed, else SweepCompleted.
func (t Tally) SweepStatus(interrupted bool) string {
	switch {
	case interrupted:
		return SweepInterrupted
	case t.Failed > 0:
		return SweepFailed
	}
	return SweepCompleted
}

// InputFile is one input file of a sweep, as pre-flight read it.
type InputFile struct {
	// Role says what the file is to the sweep: InputDataset.
	Role string `json:"role"`
	// Path is where it was read from (an absolute path, or
	// "shipped:<path>" for a dataset built into loadgen).
	Path string `json:"path"`
	// SHA256 is the hex SHA-256 of its bytes, as stored (compressed or
	// not), and Bytes their count.
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Input roles (InputFile.Role).
const (
	InputDataset = "dataset"
)

// Input returns the recorded input of the given role, or nil.
func (m *Manifest) Input(role string) *InputFile {
	for i := range m.Inputs {
		if m.Inputs[i].Role == role {
			return &m.Inputs[i]
		}
	}
	return nil
}

// HostInfo describes the machine loadgen ran on.
type HostInfo struct {
	Hostname  string `json:"hostname"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel,omitempty"`
}

// SimInfo records how the simulator was set up.
type SimInfo struct {
	// SpeedFactor is how much the simulator shrank all simulated time
	// (compile delay and latencies); 1 is real time.
	SpeedFactor float64 `json:"speed_factor"`
	// Seed is the simulator's jitter seed.
	Seed int64 `json:"seed"`
	// Notes is free text, e.g. what the latency model is calibrated to.
	Notes string `json:"notes,omitempty"`
}

// StackInfo records the vllm-neuron stack of a sweep.
type StackInfo struct {
	// Name is the stack whose rules loadgen applied ("2.27").
	Name string `json:"name"`
	// Source says how it was chosen: "simulated", "detected",
	// "server.stack" or "default (not detected)".
	Source string `json:"source"`
	// Versions are the package versions found on the host, by Python
	// distribution name (vllm, vllm-neuron, neuronx-distributed-inference,
	// neuronx-cc).
	Versions map[string]string `json:"versions,omitempty"`
	// Env is the Python environment the versions were read from.
	Env string `json:"env,omitempty"`
	// Notes say what could not be settled or read.
	Notes []string `json:"notes,omitempty"`
}

// ConfigStatus is the record of one configuration of the sweep.
type ConfigStatus struct {
	Name string `json:"name"`
	// Status is one of StatusPending, StatusRunning, StatusOK,
	// StatusFailed, StatusSkipped, StatusInterrupted.
	Status string `json:"status"`
	// FailureClass is a server.FailureClass when the config failed.
	FailureClass string `json:"failure_class,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// Settings are the resolved settings of the config as a JSON object
	// (max_num_seqs, enable_prefix_caching, enable_bucketing, …).
	Settings json.RawMessage `json:"settings,omitempty"`
	Phases   []PhaseStatus   `json:"phases"`
	// Overrides name the settings the stack's plugin replaced (one line
	// each, e.g. max_num_batched_tokens forced to 131072).
	Overrides []string `json:"overrides,omitempty"`
	// PrefixCacheReset says whether the prefix cache was reset between
	// phases and after each warmup: ResetOK, ResetUnsupported, ResetFailed
	// or "" (not attempted). Manifests written before ResetFailed existed
	// read the same.
	PrefixCacheReset string `json:"prefix_cache_reset,omitempty"`
}

// PhaseStatus is the record of one load phase of a configuration.
type PhaseStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// File is the phase result's path relative to the results directory
	// (PhaseFile(config, phase)); empty means the default location.
	File   string `json:"file,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Search names the search phase this phase is a trial of (its name is
	// TrialName(Search, n)); "" for the profile's own phases.
	Search string `json:"search,omitempty"`
	// CapacityAtSLO is a finished search phase's answer (queries/s).
	CapacityAtSLO *float64 `json:"capacity_at_slo,omitempty"`
}

// Config returns the status record of the named configuration, or nil.
func (m *Manifest) Config(name string) *ConfigStatus {
	for i := range m.Configs {
		if m.Configs[i].Name == name {
			return &m.Configs[i]
		}
	}
	return nil
}

// Phase returns the status record of the named phase, or nil.
func (c *ConfigStatus) Phase(name string) *PhaseStatus {
	for i := range c.Phases {
		if c.Phases[i].Name == name {
			return &c.Phases[i]
		}
	}
	return nil
}

// NeedsRun reports whether --resume must run the phase of the config:
// the config or phase is not in the manifest, or did not finish ok.
func (m *Manifest) NeedsRun(config, phase string) bool {
	c := m.Config(config)
	if c == nil {
		return true
	}
	p := c.Phase(phase)
	return p == nil || p.Status != StatusOK
}

// PhaseFile is where a phase result lives, relative to the results
// directory: <config>/<phase>.json.
func PhaseFile(config, phase string) string {
	return filepath.Join(config, phase+".json")
}

// HlogFile is where a phase's HdrHistogram interval log lives, relative to
// the results directory: <config>/<phase>.hlog.
func HlogFile(config, phase string) string {
	return filepath.Join(config, phase+".hlog")
}

// StartupFile is where a config's startup record lives, relative to the
// results directory: <config>/startup.json.
func StartupFile(config string) string {
	return filepath.Join(config, "startup.json")
}

// ReadStartup reads the startup record of config in the results directory
// dir (dir/<config>/startup.json). A record never written is an error that
// wraps fs.ErrNotExist.
func ReadStartup(dir, config string) (Startup, error) {
	path := filepath.Join(dir, StartupFile(config))
	b, err := os.ReadFile(path)
	if err != nil {
		return Startup{}, fmt.Errorf("read startup record: %w", err)
	}
	var st Startup
	if err := json.Unmarshal(b, &st); err != nil {
		return Startup{}, fmt.Errorf("read startup record %s: %w", path, err)
	}
	return st, nil
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	if m.SchemaVersion > ManifestSchemaVersion {
		return nil, fmt.Errorf("read manifest %s: schema_version %d is newer than this loadgen understands (%d)",
			path, m.SchemaVersion, ManifestSchemaVersion)
	}
	return &m, nil
}

// CurrentHost describes the machine this process runs on. Fields it cannot
// learn are left empty.
func CurrentHost() HostInfo {
	h := HostInfo{
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
	}
	h.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	return h
}
