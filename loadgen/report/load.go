package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/schema"
)

// Sweep is a results directory loaded into memory.
type Sweep struct {
	Dir      string
	Manifest *schema.Manifest
	Configs  []ConfigResult
	// Problems lists files that exist but could not be read, and
	// inconsistencies between the manifest and the files. Missing results
	// of pending, skipped or failed phases are not problems: they are
	// recorded in the statuses.
	Problems []string
}

// ConfigResult is one configuration's results.
type ConfigResult struct {
	Name string
	// Status is the manifest's record of the config.
	Status schema.ConfigStatus
	// Settings are Status.Settings decoded.
	Settings Settings
	// Startup is <config>/startup.json, nil when it was never written.
	Startup *schema.Startup
	// Phases are in the manifest's order, then phases found on disk that
	// the manifest does not list, by start time.
	Phases []*Phase
}

// Phase is one load phase of a configuration.
type Phase struct {
	Name   string
	Status string
	Reason string
	// Search names the search phase this phase is a trial of ("" for the
	// profile's own phases).
	Search string
	// Result is <config>/<phase>.json, nil when the phase has none.
	Result *schema.PhaseResult
	// HlogPath is the phase's interval log, "" when there is none.
	HlogPath string

	once  sync.Once
	hists map[string]*hdrhistogram.Histogram
	err   error
}

// Histograms returns the phase's histograms, read from its .hlog on first
// use and merged over all intervals, keyed by metric name (ttft, e2el,
// query_latency, …; values in µs). It returns nil and no error when the
// phase has no .hlog. It is safe for concurrent use.
func (p *Phase) Histograms() (map[string]*hdrhistogram.Histogram, error) {
	p.once.Do(func() {
		if p.HlogPath != "" {
			p.hists, p.err = schema.ReadHlogFile(p.HlogPath)
		}
	})
	return p.hists, p.err
}

// Phase returns the named phase, or nil.
func (c *ConfigResult) Phase(name string) *Phase {
	for _, p := range c.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Results returns the phase results that exist, in phase order.
func (c *ConfigResult) Results() []*schema.PhaseResult {
	var out []*schema.PhaseResult
	for _, p := range c.Phases {
		if p.Result != nil {
			out = append(out, p.Result)
		}
	}
	return out
}

// FailureClass is the config's failure class from the manifest, or else
// from its startup record.
func (c *ConfigResult) FailureClass() string {
	if c.Status.FailureClass != "" {
		return c.Status.FailureClass
	}
	if c.Startup != nil {
		return string(c.Startup.FailureClass)
	}
	return ""
}

// FailureReason is the config's failure reason from the manifest, or else
// from its startup record.
func (c *ConfigResult) FailureReason() string {
	if c.Status.Reason != "" {
		return c.Status.Reason
	}
	if c.Startup != nil {
		return c.Startup.Reason
	}
	return ""
}

// Simulated reports whether anything in the sweep was measured against the
// simulator: the manifest says so, or any phase result does.
func (s *Sweep) Simulated() bool {
	if s.manifest().Simulated {
		return true
	}
	for i := range s.Configs {
		for _, r := range s.Configs[i].Results() {
			if r.Simulated {
				return true
			}
		}
	}
	return false
}

// manifest is the sweep's manifest, or an empty one for a Sweep built
// without.
func (s *Sweep) manifest() *schema.Manifest {
	if s.Manifest == nil {
		return &schema.Manifest{}
	}
	return s.Manifest
}

// Config returns the named configuration, or nil.
func (s *Sweep) Config(name string) *ConfigResult {
	for i := range s.Configs {
		if s.Configs[i].Name == name {
			return &s.Configs[i]
		}
	}
	return nil
}

// Load reads a results directory: manifest.json, then each config's
// startup.json and phase results. It is tolerant of partial runs: a config
// or phase that has no file yet is recorded with its status, and an
// unreadable file is listed in Problems. Without a manifest (a crash before
// it was written, or results copied without it) the configs and phases are
// reconstructed from the directory and that is noted in Problems. Histograms
// are read once, to check them against the phase results. Load fails only
// when dir itself cannot be read or the manifest exists but cannot be read
// (ErrUnreadable).
func Load(dir string) (*Sweep, error) {
	s := &Sweep{Dir: dir}
	m, err := schema.ReadManifest(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if m, err = reconstructManifest(dir); err != nil {
			return nil, err
		}
		s.problem("%s is missing: configs and phases were reconstructed from the directory", schema.ManifestFile)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	s.load(m)
	return s, nil
}

// LoadManifest is Load with the manifest given rather than read from dir:
// the sweep renders its report from the records it holds, which a failed
// write may have kept from dir's manifest.json.
func LoadManifest(dir string, m *schema.Manifest) (*Sweep, error) {
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	s := &Sweep{Dir: dir}
	s.load(m)
	return s, nil
}

// load reads each configuration's files of the manifest m.
func (s *Sweep) load(m *schema.Manifest) {
	s.Manifest = m
	for _, cs := range m.Configs {
		s.Configs = append(s.Configs, s.loadConfig(cs))
	}
}

func (s *Sweep) problem(format string, args ...any) {
	s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
}

// loadConfig reads one configuration's files.
func (s *Sweep) loadConfig(cs schema.ConfigStatus) ConfigResult {
	c := ConfigResult{Name: cs.Name, Status: cs}
	set, err := ParseSettings(cs.Settings)
	if err != nil {
		s.problem("config %s: %v", cs.Name, err)
		set = Settings{}
	}
	c.Settings = set
	switch st, err := schema.ReadStartup(s.Dir, cs.Name); {
	case err == nil:
		c.Startup = &st
	case !errors.Is(err, fs.ErrNotExist):
		s.problem("config %s: %v", cs.Name, err)
	}
	listed := map[string]bool{}
	for _, ps := range cs.Phases {
		listed[ps.Name] = true
		p := &Phase{Name: ps.Name, Status: ps.Status, Reason: ps.Reason, Search: ps.Search}
		file := ps.File
		if file == "" {
			file = schema.PhaseFile(cs.Name, ps.Name)
		}
		p.Result = s.readPhase(cs.Name, ps, filepath.Join(s.Dir, file))
		p.HlogPath = existing(strings.TrimSuffix(filepath.Join(s.Dir, file), ".json") + ".hlog")
		c.Phases = append(c.Phases, p)
	}
	c.Phases = append(c.Phases, s.unlistedPhases(cs.Name, listed)...)
	s.checkFiles(&c)
	return c
}

// readPhase reads a phase result, reporting a problem when the file is
// corrupt or when the manifest says the phase finished but it is missing.
func (s *Sweep) readPhase(config string, ps schema.PhaseStatus, path string) *schema.PhaseResult {
	var r schema.PhaseResult
	err := readJSON(path, &r)
	switch {
	case err == nil:
		return &r
	case errors.Is(err, fs.ErrNotExist):
		if ps.Status == schema.StatusOK {
			s.problem("config %s phase %s: status ok but %s is missing", config, ps.Name, path)
		}
	default:
		s.problem("config %s phase %s: %v", config, ps.Name, err)
	}
	return nil
}

// unlistedPhases finds phase results on disk that the manifest does not
// list (written just before a crash), ordered by start time.
func (s *Sweep) unlistedPhases(config string, listed map[string]bool) []*Phase {
	paths, _ := filepath.Glob(filepath.Join(s.Dir, config, "*.json"))
	var out []*Phase
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		if name == "startup" || listed[name] || strings.Contains(name, schema.ScanInfix) || strings.HasSuffix(name, ".scan") {
			continue // a search's brute-force check is not part of the sweep
		}
		var r schema.PhaseResult
		if err := readJSON(path, &r); err != nil {
			s.problem("config %s: %v", config, err)
			continue
		}
		if r.Phase == "" {
			continue // not a phase result
		}
		status := schema.StatusOK
		if r.EndReason != "completed" && r.EndReason != "duration" {
			status = schema.StatusFailed
		}
		out = append(out, &Phase{
			Name: name, Status: status, Reason: "not in the manifest; read from " + filepath.Base(path),
			Search: schema.SearchOf(name), Result: &r, HlogPath: existing(strings.TrimSuffix(path, ".json") + ".hlog"),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Result.StartedAt.Before(out[j].Result.StartedAt)
	})
	return out
}

// reconstructManifest builds a manifest from the directory's
// subdirectories when manifest.json is missing.
func reconstructManifest(dir string) (*schema.Manifest, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	m := &schema.Manifest{SchemaVersion: schema.ManifestSchemaVersion, Profile: filepath.Base(dir), Status: "unknown"}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "plots" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		cs := schema.ConfigStatus{Name: e.Name(), Status: schema.StatusOK}
		if st, err := schema.ReadStartup(dir, e.Name()); err == nil && st.FailureClass != "" {
			cs.Status, cs.FailureClass, cs.Reason = schema.StatusFailed, string(st.FailureClass), st.Reason
		}
		m.Configs = append(m.Configs, cs)
	}
	return m, nil
}

// readJSON decodes the JSON file at path into v; errors name the file.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// existing returns path when a file exists there, and "" otherwise.
func existing(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		return path
	}
	return ""
}
