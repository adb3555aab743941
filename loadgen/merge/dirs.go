package merge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"loadgen/loadgen/schema"
)

// Options adjust Dirs.
type Options struct {
	// AllowMissing lets a merge go on without what is missing: an input
	// directory that holds no results (a pod that never ran), a shard of
	// the sweep nobody gave (its configurations stay pending in the merged
	// manifest, for `loadgen sweep --resume` to run), a client's share of
	// a phase (the merged phase is marked failed and says which).
	AllowMissing bool
}

// Outcome says what a merge did.
type Outcome struct {
	// Configs counts the configurations in the merged directory, Pending
	// those nobody ran, MergedPhases the phases merged from client shares.
	Configs, MergedPhases int
	Pending               []string
	// LeftOut counts the inputs left out for holding no results.
	LeftOut int
	// Notes say what was left out (with AllowMissing).
	Notes []string
}

// input is one result directory given to Dirs.
type input struct {
	dir string
	m   *schema.Manifest
}

// Dirs merges the result directories dirs into out, which must not exist
// or be empty: shards of one sweep (any subset of the sweep's
// configurations, each in exactly one input) and client shares of a
// phase (the same configuration and phase in several inputs, each a
// share). The merged directory is a sweep directory like any other: it has
// a manifest (recording what was merged), every configuration's files and
// merged phases; `loadgen report`, `compare` and `sweep --resume` work on
// it. Inputs of different profiles (profile hash), of the simulator and
// of a real server, or that overlap, are refused (ErrMismatch) before
// anything is written.
func Dirs(out string, dirs []string, o Options) (*Outcome, error) {
	res := &Outcome{}
	ins, err := readInputs(dirs, o, res)
	if err != nil {
		return nil, err
	}
	// No input may change while it is read: a sweep still running holds
	// its directory's lock.
	for _, in := range ins {
		lock, err := schema.LockDir(in.dir)
		var le *schema.LockedError
		if errors.As(err, &le) {
			return nil, mismatch("%v: is that shard still running?", err)
		}
		defer lock.Unlock() // nil (a read-only input) unlocks nothing
	}
	if err := checkSame(ins); err != nil {
		return nil, err
	}
	order, err := plan(ins, o, res)
	if err != nil {
		return nil, err
	}
	if err := checkOut(out, dirs); err != nil {
		return nil, err
	}
	// Every config is read and checked before anything is written.
	cfgs := make([]*configMerge, len(order))
	for i, e := range order {
		if e.pending {
			continue
		}
		cfgs[i] = newConfigMerge(e.name, ins)
		if err := cfgs[i].prepare(o.AllowMissing); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, mismatch("cannot create %s: %v", out, err)
	}
	lock, err := schema.LockDir(out)
	if err != nil {
		return nil, mismatch("%v", err)
	}
	defer lock.Unlock()
	m := mergedManifest(ins)
	for i, e := range order {
		if e.pending {
			m.Configs = append(m.Configs, pendingConfig(e.name, ins))
			res.Pending = append(res.Pending, e.name)
			continue
		}
		cs, err := cfgs[i].write(out)
		if err != nil {
			return nil, fmt.Errorf("merge: config %s: %w", e.name, err)
		}
		m.Configs = append(m.Configs, cs)
		res.MergedPhases += cfgs[i].merged
	}
	res.Configs = len(m.Configs)
	t := m.Tally()
	m.Status = t.SweepStatus(t.Skipped > 0 || t.Interrupted > 0)
	if err := schema.WriteJSONAtomic(filepath.Join(out, schema.ManifestFile), m); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return res, nil
}

// readInputs reads every input's manifest. With AllowMissing, a directory
// without one is left out (noted).
func readInputs(dirs []string, o Options, res *Outcome) ([]input, error) {
	var ins []input
	seen := map[string]string{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if prev, ok := seen[abs]; ok {
			return nil, mismatch("%s and %s are the same directory", prev, d)
		}
		seen[abs] = d
		if _, err := os.Stat(filepath.Join(d, schema.ManifestFile)); errors.Is(err, fs.ErrNotExist) && o.AllowMissing {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: no results (no %s): left out", d, schema.ManifestFile))
			res.LeftOut++
			continue
		}
		m, err := schema.ReadManifest(d)
		if err != nil {
			return nil, mismatch("%s: %v", d, err)
		}
		ins = append(ins, input{dir: d, m: m})
	}
	if len(ins) == 0 {
		return nil, mismatch("no results to merge")
	}
	return ins, nil
}

// checkSame refuses inputs of different sweeps: another profile, the
// simulator beside a real server, another simulator speed.
func checkSame(ins []input) error {
	a := ins[0]
	for _, b := range ins[1:] {
		switch {
		case b.m.ProfileHash != a.m.ProfileHash:
			return mismatch("%s and %s ran different profiles (%s %s, hash %.12s vs %s %s, hash %.12s): results of different profiles cannot be mixed",
				a.dir, b.dir, a.m.Profile, a.m.ProfilePath, a.m.ProfileHash, b.m.Profile, b.m.ProfilePath, b.m.ProfileHash)
		case b.m.Simulated != a.m.Simulated:
			return mismatch("%s is SIMULATED and %s is not (or the other way round): they cannot be mixed", simDir(a, b), otherDir(a, b))
		case a.m.Sim != nil && b.m.Sim != nil && a.m.Sim.SpeedFactor != b.m.Sim.SpeedFactor:
			return mismatch("%s and %s ran the simulator at different speeds (%g, %g): their latencies cannot be mixed",
				a.dir, b.dir, a.m.Sim.SpeedFactor, b.m.Sim.SpeedFactor)
		}
		for _, x := range a.m.Inputs {
			if y := b.m.Input(x.Role); y != nil && y.SHA256 != x.SHA256 {
				return mismatch("%s and %s read different %s files (%s: sha256 %.12s…; %s: sha256 %.12s…): results measured on different data cannot be mixed",
					a.dir, b.dir, x.Role, x.Path, x.SHA256, y.Path, y.SHA256)
			}
		}
	}
	return nil
}

func simDir(a, b input) string {
	if a.m.Simulated {
		return a.dir
	}
	return b.dir
}

func otherDir(a, b input) string {
	if a.m.Simulated {
		return b.dir
	}
	return a.dir
}

// entry is a configuration of the merged sweep; a pending one nobody ran.
type entry struct {
	name    string
	pending bool
}

// plan orders the merged configurations, in the sharded sweep's order
// (with the configurations of missing shards pending), then in input
// order. Shards must be of one sweep (same count and configurations),
// given once each, and all of them unless AllowMissing.
func plan(ins []input, o Options, res *Outcome) ([]entry, error) {
	var ref *input
	given := map[int]string{}
	for i := range ins {
		sh := ins[i].m.Shard
		if sh == nil {
			continue
		}
		if ref == nil {
			ref = &ins[i]
		} else if r := ref.m.Shard; sh.Count != r.Count || sh.Rule != r.Rule || !slices.Equal(sh.Of, r.Of) {
			return nil, mismatch("%s is shard %s of %s, %s shard %s of %s: shards of different sweeps",
				ins[i].dir, sh.Part, strings.Join(sh.Of, ","), ref.dir, r.Part, strings.Join(r.Of, ","))
		}
		if prev, ok := given[sh.Index]; ok {
			return nil, mismatch("%s and %s are both shard %s", prev, ins[i].dir, sh.Part)
		}
		given[sh.Index] = ins[i].dir
	}
	var order []entry
	seen := map[string]bool{}
	held := func(name string) bool {
		for _, in := range ins {
			if in.m.Config(name) != nil {
				return true
			}
		}
		return false
	}
	if ref != nil {
		sh := ref.m.Shard
		var missing []string
		for i := range sh.Count {
			if _, ok := given[i]; !ok {
				missing = append(missing, schema.Part{Index: i, Count: sh.Count}.String())
			}
		}
		if len(missing) > 0 && !o.AllowMissing {
			return nil, mismatch("shard(s) %s of the sweep are missing: give their directories, or --allow-missing to leave their configurations pending", strings.Join(missing, ", "))
		}
		if len(missing) > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("shard(s) %s missing: their configurations are left pending (loadgen sweep --resume runs them)", strings.Join(missing, ", ")))
		}
		for _, name := range sh.Of {
			seen[name] = true
			order = append(order, entry{name: name, pending: !held(name)})
		}
	}
	for _, in := range ins {
		for _, c := range in.m.Configs {
			if !seen[c.Name] {
				seen[c.Name] = true
				order = append(order, entry{name: c.Name})
			}
		}
	}
	return order, nil
}

// checkOut refuses an output directory that holds anything, or that is
// one of the inputs.
func checkOut(out string, dirs []string) error {
	abs, _ := filepath.Abs(out)
	for _, d := range dirs {
		if a, _ := filepath.Abs(d); a == abs {
			return mismatch("the output %s is one of the inputs", out)
		}
	}
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		return mismatch("%s already holds files: merge into a new directory", out)
	}
	return nil
}

// mergedManifest is the first input's manifest with the inputs' span and
// record, and no configurations yet.
func mergedManifest(ins []input) *schema.Manifest {
	m := *ins[0].m
	m.Shard, m.Configs, m.MergedFrom = nil, nil, nil
	for i, in := range ins {
		if i == 0 || in.m.StartedAt.Before(m.StartedAt) {
			m.StartedAt = in.m.StartedAt
		}
		if in.m.EndedAt.After(m.EndedAt) {
			m.EndedAt = in.m.EndedAt
		}
		p := schema.MergedPart{Dir: in.dir, Host: in.m.Host, LoadgenVersion: in.m.LoadgenVersion,
			StartedAt: in.m.StartedAt, EndedAt: in.m.EndedAt, Status: in.m.Status}
		if in.m.Shard != nil {
			part := in.m.Shard.Part
			p.Shard = &part
		}
		for _, c := range in.m.Configs {
			p.Configs = append(p.Configs, c.Name)
		}
		m.MergedFrom = append(m.MergedFrom, p)
	}
	return &m
}

// pendingConfig records a configuration nobody ran: every phase pending.
// Every configuration of a profile runs the same phases, so the phases of
// the first configuration any input recorded are its phases.
func pendingConfig(name string, ins []input) schema.ConfigStatus {
	cs := schema.ConfigStatus{Name: name, Status: schema.StatusPending}
	for _, in := range ins {
		if len(in.m.Configs) == 0 {
			continue
		}
		for _, p := range in.m.Configs[0].Phases {
			cs.Phases = append(cs.Phases, schema.PhaseStatus{Name: p.Name, Status: schema.StatusPending, File: schema.PhaseFile(name, p.Name)})
		}
		break
	}
	return cs
}

// readResult reads a phase result file.
func readResult(path string) (*schema.PhaseResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r schema.PhaseResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
