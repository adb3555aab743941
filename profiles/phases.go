package profiles

import "strings"

// phaseDefaults resolves every load phase as the profile wrote it (see
// ResolvePhase), reporting each problem at the file:line of its key. A
// profile without load: gets one sync phase, a pass over the dataset.
func (p *Profile) phaseDefaults() {
	pr := p.prob
	if len(p.Load) == 0 {
		if pr.has("load") {
			pr.errorf("load", "lists no phases: write at least one, e.g. - arrival: sync")
			return
		}
		if p.Workload.IsSynthetic() {
			pr.errorf("load", "required with a synthetic workload: the default, one sync pass over the dataset, needs a dataset")
			return
		}
		p.Load = []Phase{{Arrival: ArrivalSync}}
		pr.lines["load[0]"] = pr.line("load")
		p.resolvePhases(pr, func(int) PhaseSpec {
			return PhaseSpec{Phase: p.Load[0], Written: map[string]bool{"arrival": true}}
		})
		return
	}
	p.resolvePhases(pr, func(i int) PhaseSpec {
		return PhaseSpec{Phase: p.Load[i], Written: pr.written(indexPath("load", i))}
	})
}

// resolvePhases resolves every phase of p.Load from its spec, reports the
// problems at their key paths (load[i].key) and checks that the names are
// unique. Loading resolves the phases as written; pre-flight resolves
// them again from what they hold (writtenOf), which must change nothing.
func (p *Profile) resolvePhases(pr *problems, spec func(i int) PhaseSpec) {
	env := PhaseEnv{SLO: p.SLO, Synthetic: p.Workload.IsSynthetic()}
	names := map[string]string{} // name → path of the phase that has it
	for i := range p.Load {
		path := indexPath("load", i)
		ph, probs := ResolvePhase(spec(i), env, ProfileKeys)
		for _, prob := range probs {
			pr.errorf(joinPath(path, prob.Key), "%s", prob.Msg)
		}
		p.Load[i] = ph
		env.after(ph)
		if len(probs) > 0 {
			continue
		}
		if prev, dup := names[ph.Name]; dup {
			at := joinPath(path, "name")
			if !pr.has(at) {
				at = path
			}
			pr.errorf(at, "phase name %q is already used by %s (line %d): set name: on one of them", ph.Name, prev, pr.line(prev))
			continue
		}
		names[ph.Name] = path
	}
}

// written returns the keys recorded under path, relative to it: the keys
// a profile wrote in one of its sections.
func (p *problems) written(path string) map[string]bool {
	out := map[string]bool{}
	prefix := path + "."
	for k := range p.lines {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = true
		}
	}
	return out
}

// after updates the environment of the phases that follow ph: relative
// rates are shares of the last inf phase's capacity, and a search's first
// guess starts from the last sync phase's latency.
func (e *PhaseEnv) after(ph Phase) {
	switch ph.Arrival {
	case ArrivalInf:
		e.Capacity = ph.Name
	case ArrivalSync:
		e.Unloaded = ph.Name
	}
}
