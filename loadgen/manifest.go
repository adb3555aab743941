package loadgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// manifestState owns manifest.json: every change of status goes through
// update, which rewrites the file atomically, so the record on disk is
// accurate whenever loadgen stops.
type manifestState struct {
	path   string
	mu     sync.Mutex
	m      *schema.Manifest
	frozen bool // after a hard stop: the record on disk is final
	write  func(path string, data []byte) error
	writes *writeLog // notes every write, so that a failed one is seen
}

// resumeManifest reads the manifest of the sweep to resume from o.Out and
// refuses what cannot be continued: a changed profile, the other mode
// (real vs simulated), another simulator speed.
func resumeManifest(o Options, plan *profiles.Plan, shard *schema.Shard) (*schema.Manifest, error) {
	dir, hash := o.Out, plan.Profile.Hash()
	if dir == "" {
		return nil, fmt.Errorf("%w: --resume needs the results directory of the sweep to continue", ErrBadInput)
	}
	if _, err := os.Stat(filepath.Join(dir, schema.ManifestFile)); err != nil {
		return nil, fmt.Errorf("%w: --resume %s: no %s there: %w", ErrBadInput, dir, schema.ManifestFile, err)
	}
	// Refuse a directory another sweep still writes into before reading
	// it (Run takes the lock for good).
	lock, err := lockResults(dir)
	if err != nil {
		return nil, fmt.Errorf("--resume %s: %w", dir, err)
	}
	lock.Unlock()
	m, err := schema.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: --resume %s: %w", ErrBadInput, dir, err)
	}
	if m.ProfileHash != hash {
		return nil, fmt.Errorf("%w: --resume %s: the profile changed since that sweep (hash %s, now %s); results of different profiles cannot be mixed: start a new sweep",
			ErrBadInput, dir, m.ProfileHash, hash)
	}
	if err := sameShard(m.Shard, shard); err != nil {
		return nil, fmt.Errorf("%w: --resume %s: %w", ErrBadInput, dir, err)
	}
	if m.Simulated != o.Simulate {
		return nil, fmt.Errorf("%w: --resume %s: that sweep ran %s; resume it the same way", ErrBadInput, dir, simOrReal(m.Simulated))
	}
	if speed := o.Sim.withDefaults().Speed; m.Sim != nil && o.Simulate && m.Sim.SpeedFactor != speed {
		return nil, fmt.Errorf("%w: --resume %s: that sweep ran the simulator at --sim-speed %g, not %g; latencies of different speeds cannot be mixed",
			ErrBadInput, dir, m.Sim.SpeedFactor, speed)
	}
	return m, nil
}

// inputsOf records the inputs pre-flight read: the dataset, hashed in the
// same pass that checked its rows (none for a synthetic workload).
func inputsOf(data *profiles.Dataset) []schema.InputFile {
	if data == nil {
		return nil
	}
	return []schema.InputFile{{Role: schema.InputDataset, Path: data.Path(), SHA256: data.SHA256(), Bytes: data.Size()}}
}

// checkInputs refuses to resume a sweep whose recorded inputs differ from
// what pre-flight read now: configurations measured on different data must
// not be ranked together. An input the manifest does not record (written
// before inputs were) cannot be compared, and is recorded from now on.
func checkInputs(dir string, resumed *schema.Manifest, now []schema.InputFile) error {
	for _, in := range now {
		was := resumed.Input(in.Role)
		if was == nil || was.SHA256 == in.SHA256 {
			continue
		}
		return fmt.Errorf("%w: --resume %s: the %s changed since that sweep (%s: sha256 %.12s…, %d bytes; then %s: sha256 %.12s…, %d bytes); results measured on different data cannot be mixed: start a new sweep, or restore the %s",
			ErrBadInput, dir, in.Role, in.Path, in.SHA256, in.Bytes, was.Path, was.SHA256, was.Bytes, in.Role)
	}
	return nil
}

// newManifestState continues the resumed manifest, or starts a new one, and
// writes it.
func newManifestState(dir string, o Options, plan *profiles.Plan, data *profiles.Dataset, shard *schema.Shard, resumed *schema.Manifest, writes *writeLog) (*manifestState, error) {
	s := &manifestState{path: filepath.Join(dir, schema.ManifestFile), write: o.writeFile, writes: writes}
	hash := plan.Profile.Hash()
	if resumed != nil {
		s.m = resumed
	} else {
		resolved, err := json.Marshal(plan.Profile)
		if err != nil {
			return nil, fmt.Errorf("encode resolved profile: %w", err)
		}
		s.m = &schema.Manifest{
			SchemaVersion:   schema.ManifestSchemaVersion,
			Profile:         plan.Profile.Name,
			ProfilePath:     absProfilePath(plan.Profile.Path),
			ProfileHash:     hash,
			ResolvedProfile: resolved,
			LoadgenVersion:  o.Version,
			Host:            schema.CurrentHost(),
			Simulated:       o.Simulate,
			StartedAt:       o.Now(),
			Shard:           shard,
		}
		if o.Simulate {
			s.m.Sim = o.Sim.info()
		}
	}
	s.m.Status = schema.SweepRunning
	s.m.Inputs = inputsOf(data)
	// The stack of this run (a resumed sweep records the one it resumes on).
	s.m.Stack = stackInfo(plan.Stack)
	for _, c := range plan.Configs {
		if err := addConfig(s.m, c, plan.Profile.Load); err != nil {
			return nil, err
		}
	}
	return s, s.save()
}

// sameShard refuses to continue a sweep as another shard than it was: a
// shard of the whole, the whole as a shard, or another share.
func sameShard(was, now *schema.Shard) error {
	switch {
	case was == nil && now == nil:
		return nil
	case was == nil:
		return fmt.Errorf("that sweep ran every configuration, not shard %s: resume it without --shard", now.Part)
	case now == nil:
		return fmt.Errorf("that sweep ran shard %s: resume it with --shard %s", was.Part, was.Part)
	case was.Part != now.Part || !slices.Equal(was.Of, now.Of):
		return fmt.Errorf("that sweep ran shard %s of %s; this is shard %s of %s", was.Part, strings.Join(was.Of, ","), now.Part, strings.Join(now.Of, ","))
	}
	return nil
}

func simOrReal(sim bool) string {
	if sim {
		return "with --simulate"
	}
	return "without --simulate"
}

// update applies fn to the manifest and writes it.
func (s *manifestState) update(fn func(m *schema.Manifest)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.m)
	// A failed write is not fatal to the measurements: the phase files are
	// written separately and `loadgen report` rebuilds from them. It is
	// printed (writeLog), and the outcome counts it.
	_ = s.saveLocked()
}

// config applies fn to the named configuration's record and writes it.
func (s *manifestState) config(name string, fn func(c *schema.ConfigStatus)) {
	s.update(func(m *schema.Manifest) { fn(m.Config(name)) })
}

// snapshot returns a deep copy of the manifest.
func (s *manifestState) snapshot() schema.Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c schema.Manifest
	b, _ := json.Marshal(s.m)
	_ = json.Unmarshal(b, &c)
	return c
}

func (s *manifestState) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *manifestState) saveLocked() error {
	if s.frozen {
		return nil
	}
	b, err := schema.Encode(s.m)
	if err == nil {
		err = s.write(s.path, b)
	}
	s.writes.note(s.path, err)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// addConfig records a configuration of the plan (and its phases) as pending,
// unless a resumed manifest already has it.
func addConfig(m *schema.Manifest, c profiles.Config, phases []profiles.Phase) error {
	settings, err := json.Marshal(c.Settings)
	if err != nil {
		return fmt.Errorf("encode settings of %s: %w", c.Name, err)
	}
	cs := m.Config(c.Name)
	if cs == nil {
		m.Configs = append(m.Configs, schema.ConfigStatus{Name: c.Name, Status: schema.StatusPending})
		cs = &m.Configs[len(m.Configs)-1]
	}
	cs.Settings = settings
	cs.Overrides = c.Overrides
	for _, ph := range phases {
		if cs.Phase(ph.Name) == nil {
			cs.Phases = append(cs.Phases, schema.PhaseStatus{
				Name: ph.Name, Status: schema.StatusPending, File: schema.PhaseFile(c.Name, ph.Name)})
		}
	}
	return nil
}

// absProfilePath makes a profile file's path absolute, so that `sweep
// --resume DIR` finds it from any directory ("shipped:…" stays as it is).
func absProfilePath(path string) string {
	if path == "" || strings.HasPrefix(path, "shipped:") {
		return path
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
