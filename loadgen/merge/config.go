package merge

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"loadgen/loadgen/schema"
)

// configMerge is one configuration of the merge: held by one input (its
// files are copied) or by several, each with client shares of its phases
// (merged phase by phase).
type configMerge struct {
	name    string
	holders []input // the inputs whose manifest lists the config, in input order
	phases  []string
	// from says, for a phase held by one input, which; shares holds the
	// client shares of a phase held by several.
	from   map[string]int
	shares map[string][]heldShare
	merged int
	done   map[string]*Phase // merged phases, once prepared
}

// heldShare is a client share and the input holding it.
type heldShare struct {
	in int // index into holders
	Share
	status schema.PhaseStatus
}

func newConfigMerge(name string, ins []input) *configMerge {
	cm := &configMerge{name: name, from: map[string]int{}, shares: map[string][]heldShare{}, done: map[string]*Phase{}}
	for _, in := range ins {
		if in.m.Config(name) != nil {
			cm.holders = append(cm.holders, in)
		}
	}
	for _, h := range cm.holders {
		for _, p := range h.m.Config(name).Phases {
			if !slices.Contains(cm.phases, p.Name) {
				cm.phases = append(cm.phases, p.Name)
			}
		}
	}
	return cm
}

// prepare decides, phase by phase, where each comes from, and merges the
// client shares; it refuses overlapping results.
func (cm *configMerge) prepare(allowMissing bool) error {
	if len(cm.holders) == 1 {
		return nil
	}
	for _, ph := range cm.phases {
		var held []heldShare
		var whole []string
		for i, h := range cm.holders {
			st := h.m.Config(cm.name).Phase(ph)
			if st == nil {
				continue
			}
			r, err := readResult(filepath.Join(h.dir, schema.PhaseFile(cm.name, ph)))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return mismatch("%v", err)
			}
			if r.Client == nil {
				whole = append(whole, h.dir)
				cm.from[ph] = i
				continue
			}
			ivs, err := schema.ReadHlogFileIntervals(filepath.Join(h.dir, schema.HlogFile(cm.name, ph)))
			if err != nil && !(errors.Is(err, fs.ErrNotExist) && !measured(r)) {
				return mismatch("config %s phase %s: %v", cm.name, ph, err)
			}
			held = append(held, heldShare{in: i, Share: Share{Result: r, Intervals: ivs}, status: *st})
		}
		switch {
		case len(whole) > 1 || len(whole) == 1 && len(held) > 0:
			dirs := append(whole, holderDirs(cm.holders, held)...)
			return mismatch("config %s phase %s is in %s: the directories overlap (only client shares of one phase can be merged)",
				cm.name, ph, strings.Join(dirs, " and "))
		case len(held) == 0:
			if _, ok := cm.from[ph]; !ok {
				cm.from[ph] = firstWithStatus(cm.holders, cm.name, ph)
			}
			continue
		}
		shares := make([]Share, len(held))
		for i, s := range held {
			shares[i] = s.Share
		}
		merged, err := Shares(shares, allowMissing)
		if err != nil {
			return err
		}
		cm.shares[ph], cm.done[ph] = held, merged
		cm.merged++
	}
	return nil
}

func holderDirs(holders []input, held []heldShare) []string {
	var out []string
	for _, s := range held {
		out = append(out, holders[s.in].dir)
	}
	return out
}

// firstWithStatus is the holder whose record of a phase that has no result
// says the most (ran, failed, skipped…): the first that is not pending.
func firstWithStatus(holders []input, config, phase string) int {
	for i, h := range holders {
		if st := h.m.Config(config).Phase(phase); st != nil && st.Status != schema.StatusPending {
			return i
		}
	}
	return 0
}

// measured reports whether a result holds latency values (and so needs
// its .hlog to be merged).
func measured(r *schema.PhaseResult) bool {
	for _, st := range r.Latency {
		if st.Count > 0 {
			return true
		}
	}
	return false
}

// phaseFiles are the files of a phase in a config directory.
func phaseFiles(phase string) []string {
	return []string{phase + ".json", phase + ".hlog", phase + ".scores.jsonl", phase + ".requests.jsonl"}
}

// write writes the configuration's directory under out and returns its
// record for the merged manifest.
func (cm *configMerge) write(out string) (schema.ConfigStatus, error) {
	dst := filepath.Join(out, cm.name)
	if len(cm.holders) == 1 {
		h := cm.holders[0]
		return *h.m.Config(cm.name), copyTree(filepath.Join(h.dir, cm.name), dst)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return schema.ConfigStatus{}, err
	}
	// The configuration's own files (startup.json, command.txt, server.log)
	// from its first holder; each phase's from where it comes.
	own := map[string]bool{}
	for _, ph := range cm.phases {
		for _, f := range phaseFiles(ph) {
			own[f] = true
		}
	}
	first := cm.holders[0]
	if err := copyTree(filepath.Join(first.dir, cm.name), dst, func(name string) bool { return !own[name] }); err != nil {
		return schema.ConfigStatus{}, err
	}
	cs := *first.m.Config(cm.name)
	cs.Phases = nil
	for _, ph := range cm.phases {
		if merged, ok := cm.done[ph]; ok {
			st, err := cm.writeMerged(dst, ph, merged)
			if err != nil {
				return schema.ConfigStatus{}, err
			}
			cs.Phases = append(cs.Phases, st)
			continue
		}
		h := cm.holders[cm.from[ph]]
		files := phaseFiles(ph)
		if err := copyTree(filepath.Join(h.dir, cm.name), dst, func(name string) bool { return slices.Contains(files, name) }); err != nil {
			return schema.ConfigStatus{}, err
		}
		cs.Phases = append(cs.Phases, *h.m.Config(cm.name).Phase(ph))
	}
	cs.Status, cs.Reason = configStatus(cs)
	return cs, nil
}

// configStatus is the status of a configuration whose phases came from
// several inputs: ok when every phase is, else failed with the first
// phase that is not (or interrupted, or pending, as its phases are).
func configStatus(cs schema.ConfigStatus) (string, string) {
	if cs.FailureClass != "" && cs.Status == schema.StatusFailed {
		return cs.Status, cs.Reason
	}
	for _, p := range cs.Phases {
		switch p.Status {
		case schema.StatusOK:
			continue
		case schema.StatusPending, schema.StatusInterrupted:
			return p.Status, fmt.Sprintf("phase %s: %s", p.Name, p.Status)
		default:
			return schema.StatusFailed, fmt.Sprintf("phase %s: %s", p.Name, p.Reason)
		}
	}
	return schema.StatusOK, ""
}

// writeMerged writes a phase merged from client shares: its result, its
// .hlog (every share's intervals on one time base), the scores of every
// share, and each share's requests log as <phase>.client-<i>.requests.jsonl
// (its stamps are relative to that client's own start).
func (cm *configMerge) writeMerged(dst, ph string, merged *Phase) (schema.PhaseStatus, error) {
	held := cm.shares[ph]
	res := merged.Result
	st := schema.PhaseStatus{Name: ph, Status: schema.StatusOK, File: schema.PhaseFile(cm.name, ph)}
	var bad []string
	for _, s := range held {
		if s.status.Status != schema.StatusOK {
			bad = append(bad, fmt.Sprintf("client %s %s: %s", s.Result.Client.Part, s.status.Status, s.status.Reason))
		}
	}
	if n := held[0].Result.Client.Count; len(held) < n {
		bad = append(bad, fmt.Sprintf("%d of %d clients", len(held), n))
	}
	if len(bad) > 0 {
		st.Status, st.Reason = schema.StatusFailed, strings.Join(bad, "; ")
	}
	if err := schema.WriteJSONAtomic(filepath.Join(dst, ph+".json"), res); err != nil {
		return st, err
	}
	if err := writeHlog(filepath.Join(dst, ph+".hlog"), res, merged.Intervals); err != nil {
		return st, err
	}
	var scores []string
	for _, s := range held {
		src := filepath.Join(cm.holders[s.in].dir, cm.name)
		if p := filepath.Join(src, ph+".scores.jsonl"); exists(p) {
			scores = append(scores, p)
		}
		if p := filepath.Join(src, ph+".requests.jsonl"); exists(p) {
			if err := copyFile(p, filepath.Join(dst, fmt.Sprintf("%s.client-%d.requests.jsonl", ph, s.Result.Client.Index))); err != nil {
				return st, err
			}
		}
	}
	if len(scores) > 0 {
		if err := concatFiles(scores, filepath.Join(dst, ph+".scores.jsonl")); err != nil {
			return st, err
		}
	}
	return st, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
