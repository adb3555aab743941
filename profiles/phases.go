package profiles

import (
	"fmt"
	"slices"
	"strconv"
)

var arrivals = []string{ArrivalPoisson, ArrivalGamma, ArrivalConstant, ArrivalSync, ArrivalInf}

// phaseDefaults fills in and checks every load phase. A profile without
// load: gets one sync phase, a pass over the dataset.
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
	}
	names := map[string]string{} // name → path of the phase that has it
	for i := range p.Load {
		path := indexPath("load", i)
		ph := &p.Load[i]
		p.phase(path, ph)
		if ph.Name == "" {
			continue // arrival was invalid; already reported
		}
		if err := checkName(ph.Name); err != nil {
			pr.errorf(joinPath(path, "name"), "%v (it names the phase's result files)", err)
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

// phase fills in and checks one phase.
func (p *Profile) phase(path string, ph *Phase) {
	pr := p.prob
	has := func(k string) bool { return pr.has(joinPath(path, k)) }
	errorf := func(k, format string, args ...any) { pr.errorf(joinPath(path, k), format, args...) }

	switch {
	case ph.Arrival == "" && !has("arrival"):
		errorf("arrival", "required: one of %s", joinStrings(arrivals))
		return
	case !slices.Contains(arrivals, ph.Arrival):
		msg := fmt.Sprintf("%q is not an arrival process: use one of %s", ph.Arrival, joinStrings(arrivals))
		if s := suggest(ph.Arrival, arrivals); s != "" {
			msg = fmt.Sprintf("%q is not an arrival process; did you mean %s?", ph.Arrival, s)
		}
		errorf("arrival", "%s", msg)
		return
	}
	// rate: inf under any open-loop arrival is the inf arrival (as vLLM's
	// --request-rate inf).
	if ph.Rate.IsInf() && ph.Arrival != ArrivalSync {
		ph.Arrival = ArrivalInf
	}
	switch ph.Arrival {
	case ArrivalSync:
		if has("rate") {
			errorf("rate", "a sync phase sends the next query when the last one is done, so it has no rate: remove rate")
		}
		if has("max_concurrency") && ph.MaxConcurrency != 1 {
			errorf("max_concurrency", "a sync phase has one query in flight; for a closed loop of %d requests in flight use arrival: inf with max_concurrency: %d", ph.MaxConcurrency, ph.MaxConcurrency)
		}
	case ArrivalInf:
		if has("rate") && !ph.Rate.IsInf() {
			errorf("rate", "arrival inf sends every query at once: remove rate, or use poisson, gamma or constant")
		}
		ph.Rate = InfRate
		if ph.MaxConcurrency <= 0 && !has("max_concurrency") {
			errorf("max_concurrency", "required with rate inf: every query is due at once, so cap the requests in flight (e.g. max_concurrency: 4)")
		}
	default:
		switch {
		case ph.Ramp != nil && has("rate"):
			errorf("rate", "ramp sets the rate: remove rate, or remove ramp")
		case ph.Ramp == nil && !has("rate"):
			errorf("rate", "required for arrival %s: queries per second, e.g. rate: 2", ph.Arrival)
		case ph.Ramp == nil && ph.Rate <= 0:
			errorf("rate", "must be positive, got %s", ph.Rate)
		}
	}
	if has("burstiness") && ph.Arrival != ArrivalGamma {
		errorf("burstiness", "only applies to arrival: gamma (poisson is gamma with burstiness 1)")
	} else if !has("burstiness") {
		ph.Burstiness = 1
	} else if ph.Burstiness <= 0 {
		errorf("burstiness", "must be positive (below 1 is burstier than poisson, above 1 more regular), got %g", ph.Burstiness)
	}
	if has("max_concurrency") && ph.MaxConcurrency < 1 {
		errorf("max_concurrency", "must be at least 1, got %d", ph.MaxConcurrency)
	}
	p.phaseEnd(path, ph)
	if has("warmup") && ph.Warmup < 0 {
		errorf("warmup", "must not be negative, got %d", ph.Warmup)
	}
	if ph.Ramp != nil {
		p.ramp(joinPath(path, "ramp"), ph)
	}
	if !has("request_timeout") {
		ph.RequestTimeout = DefaultRequestTimeout
	} else if ph.RequestTimeout <= 0 {
		errorf("request_timeout", "must be positive (default %s)", DefaultRequestTimeout)
	}
	ph.SLO = mergeSLO(p.SLO, ph.SLO)
	if !has("name") {
		ph.Name = defaultPhaseName(*ph)
	}
}

// phaseEnd checks that exactly one of queries and duration ends the phase.
func (p *Profile) phaseEnd(path string, ph *Phase) {
	pr := p.prob
	hasQ, hasD := pr.has(joinPath(path, "queries")), pr.has(joinPath(path, "duration"))
	switch {
	case hasQ && hasD:
		pr.errorf(joinPath(path, "duration"), "set queries or duration, not both")
	case hasQ && ph.Queries < 1:
		pr.errorf(joinPath(path, "queries"), "must be at least 1, got %d", ph.Queries)
	case hasD && ph.Duration <= 0:
		pr.errorf(joinPath(path, "duration"), "must be positive")
	case hasQ || hasD:
	case ph.Arrival != ArrivalSync:
		pr.errorf(path, "set queries (how many) or duration (how long) to end the phase")
	case p.Workload.IsSynthetic():
		pr.errorf(path, "a sync phase without queries or duration makes one pass over the dataset, and a synthetic workload has none: set queries or duration")
	}
}

func (p *Profile) ramp(path string, ph *Phase) {
	pr := p.prob
	r := ph.Ramp
	if ph.Arrival == ArrivalSync || ph.Arrival == ArrivalInf {
		pr.errorf(path, "a %s phase has no rate to ramp: use poisson, gamma or constant", ph.Arrival)
		return
	}
	if !slices.Contains([]string{RampLinear, RampExponential}, r.Strategy) {
		pr.errorf(joinPath(path, "strategy"), "want linear or exponential, got %q", r.Strategy)
	}
	for _, k := range []struct {
		key string
		v   float64
	}{{"from", r.From}, {"to", r.To}} {
		switch {
		case !pr.has(joinPath(path, k.key)):
			pr.errorf(joinPath(path, k.key), "required: the rate in queries/s at the %s of the phase", map[string]string{"from": "start", "to": "end"}[k.key])
		case k.v <= 0:
			pr.errorf(joinPath(path, k.key), "must be positive, got %g", k.v)
		}
	}
}

// mergeSLO overlays a phase's SLO on the profile's.
func mergeSLO(base, over *SLO) *SLO {
	if base == nil && over == nil {
		return nil
	}
	out := SLO{}
	for _, s := range []*SLO{base, over} {
		if s == nil {
			continue
		}
		if s.TTFT > 0 {
			out.TTFT = s.TTFT
		}
		if s.E2EL > 0 {
			out.E2EL = s.E2EL
		}
		if s.QueryLatency > 0 {
			out.QueryLatency = s.QueryLatency
		}
	}
	if out == (SLO{}) {
		return nil
	}
	return &out
}

// defaultPhaseName derives a name from the arrival process.
func defaultPhaseName(ph Phase) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch {
	case ph.Arrival == ArrivalSync:
		return "sync"
	case ph.Arrival == ArrivalInf && ph.MaxConcurrency > 0:
		return fmt.Sprintf("inf-c%d", ph.MaxConcurrency)
	case ph.Arrival == ArrivalInf:
		return "inf"
	case ph.Ramp != nil:
		return fmt.Sprintf("%s-ramp-%s-%s", ph.Arrival, f(ph.Ramp.From), f(ph.Ramp.To))
	case ph.Arrival == ArrivalGamma:
		return fmt.Sprintf("gamma-%s-b%s", ph.Rate, f(ph.Burstiness))
	}
	return fmt.Sprintf("%s-%s", ph.Arrival, ph.Rate)
}

func joinStrings(s []string) string {
	out := ""
	for i, x := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " or "
		default:
			out += ", "
		}
		out += x
	}
	return out
}
