package profiles

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"loadgen/loadgen/schema"
)

// PhaseSpec is a load phase as written, by a profile's load: entry or by
// the flags of `loadgen run`: its values, and which keys were written.
type PhaseSpec struct {
	// Phase holds the values written; the rest are ignored.
	Phase Phase
	// Written holds the keys written, as a profile spells them ("rate",
	// "max_concurrency", "ramp.from", "slo.ttft"). A key not in it takes
	// its default.
	Written map[string]bool
}

// PhaseEnv is what a phase's rules depend on beyond the phase itself.
type PhaseEnv struct {
	// SLO is the profile's slo, which the phase's own slo overrides key by
	// key.
	SLO *SLO
	// Synthetic says the workload is synthetic: it has no dataset for a
	// sync phase to make one pass over.
	Synthetic bool
	// Capacity names the last inf phase before this one ("" when none):
	// relative rates are shares of the capacity it measures, and a search
	// takes it as its upper bound.
	Capacity string
	// Unloaded names the last sync phase before this one ("" when none):
	// a search takes its latency as the latency at no load.
	Unloaded string
}

// PhaseProblem is one rule a phase as written breaks.
type PhaseProblem struct {
	// Key is the key at fault, as a profile spells it ("rate",
	// "ramp.to"); "" for the phase as a whole.
	Key string
	// Msg says what is wrong and what to do, naming keys the way the
	// KeyNames given to ResolvePhase does.
	Msg string
}

// KeyNames names a phase's keys in messages the way the user wrote them:
// "rate" and "rate: 2" in a profile, "--rate" and "--rate 2" for `loadgen
// run`.
type KeyNames interface {
	// Key names a key ("max_concurrency" or "--max-concurrency").
	Key(key string) string
	// Setting names a key with a value ("arrival: inf", "--arrival inf").
	Setting(key, value string) string
}

// ProfileKeys names keys as a profile writes them.
var ProfileKeys KeyNames = profileKeys{}

type profileKeys struct{}

func (profileKeys) Key(key string) string            { return key }
func (profileKeys) Setting(key, value string) string { return key + ": " + value }

var arrivals = []string{ArrivalPoisson, ArrivalGamma, ArrivalConstant, ArrivalSync, ArrivalInf}

// ResolvePhase applies the rules of a load phase: it fills in the defaults
// (burstiness 1, request_timeout DefaultRequestTimeout, a name derived from
// the arrival), turns rate inf under an open-loop arrival into arrival inf,
// merges the profile's SLO, and checks every rule. It returns the resolved
// phase, or every problem found; names says how messages name the keys.
// The profile loader and `loadgen run` both resolve their phases here, so
// a phase means the same and is refused for the same reasons whichever
// way it was written.
func ResolvePhase(spec PhaseSpec, env PhaseEnv, names KeyNames) (Phase, []PhaseProblem) {
	r := resolver{ph: spec.Phase, written: spec.Written, env: env, n: names}
	r.resolve()
	return r.ph, r.probs
}

// resolver holds one phase under resolution.
type resolver struct {
	ph      Phase
	written map[string]bool
	env     PhaseEnv
	n       KeyNames
	probs   []PhaseProblem
}

func (r *resolver) has(key string) bool { return r.written[key] }

func (r *resolver) errorf(key, format string, args ...any) {
	r.probs = append(r.probs, PhaseProblem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (r *resolver) resolve() {
	ph, n := &r.ph, r.n
	switch {
	case !r.has("arrival"):
		r.errorf("arrival", "required: one of %s", joinStrings(arrivals))
		return
	case !slices.Contains(arrivals, ph.Arrival):
		msg := fmt.Sprintf("%q is not an arrival process: use one of %s", ph.Arrival, joinStrings(arrivals))
		if s := suggest(ph.Arrival, arrivals); s != "" {
			msg = fmt.Sprintf("%q is not an arrival process; did you mean %s?", ph.Arrival, s)
		}
		r.errorf("arrival", "%s", msg)
		return
	}
	if !r.has("rate") {
		ph.Rate = RateValue{}
	}
	if !r.has("ramp") {
		ph.Ramp = nil
	}
	if !r.has("search") {
		ph.Search = nil
	}
	ph.Capacity = ""
	// rate: inf under any open-loop arrival is the inf arrival (as vLLM's
	// --request-rate inf).
	if ph.Rate.IsInf() && ph.Arrival != ArrivalSync {
		ph.Arrival = ArrivalInf
	}
	r.arrival()
	switch {
	case r.has("burstiness") && ph.Arrival != ArrivalGamma:
		r.errorf("burstiness", "only applies to %s (poisson is gamma with burstiness 1)", n.Setting("arrival", ArrivalGamma))
	case !r.has("burstiness"):
		ph.Burstiness = 1
	case ph.Burstiness <= 0:
		r.errorf("burstiness", "must be positive (below 1 is burstier than poisson, above 1 more regular), got %g", ph.Burstiness)
	}
	if !r.has("max_concurrency") {
		ph.MaxConcurrency = 0
	} else if ph.MaxConcurrency < 1 {
		r.errorf("max_concurrency", "must be at least 1, got %d", ph.MaxConcurrency)
	}
	r.end()
	if !r.has("warmup") {
		ph.Warmup = 0
	} else if ph.Warmup < 0 {
		r.errorf("warmup", "must not be negative, got %d", ph.Warmup)
	}
	if !r.has("seed") {
		ph.Seed = 0
	}
	if ph.Ramp != nil {
		r.ramp()
	}
	if len(r.probs) == 0 {
		r.size()
	}
	if !r.has("request_timeout") {
		ph.RequestTimeout = DefaultRequestTimeout
	} else if ph.RequestTimeout <= 0 {
		r.errorf("request_timeout", "must be positive (default %s)", DefaultRequestTimeout)
	}
	if !r.has("slo") {
		ph.SLO = nil
	}
	ph.SLO = mergeSLO(r.env.SLO, ph.SLO)
	if ph.Search != nil {
		r.search()
	}
	r.relative()
	r.saturationStop()
	r.clients()
	if !r.has("name") {
		ph.Name = defaultPhaseName(*ph)
	}
	if err := checkName(ph.Name); err != nil {
		r.errorf("name", "%v (it names the phase's result files)", err)
	} else {
		for _, infix := range []string{schema.TrialInfix, schema.ScanInfix} {
			if strings.Contains(ph.Name, infix) {
				r.errorf("name", "%q holds %q, which names a search's trials (<search>%s01): choose another name", ph.Name, infix, infix)
			}
		}
	}
}

// arrival checks the keys that depend on the arrival process: rate and
// max_concurrency.
func (r *resolver) arrival() {
	ph, n := &r.ph, r.n
	switch ph.Arrival {
	case ArrivalSync:
		if r.has("rate") {
			r.errorf("rate", "a sync phase sends the next query when the last one is done, so it has no rate: remove %s", n.Key("rate"))
		}
		if r.has("max_concurrency") && ph.MaxConcurrency != 1 {
			c := strconv.Itoa(ph.MaxConcurrency)
			r.errorf("max_concurrency", "a sync phase has one query in flight; for a closed loop of %s requests in flight use %s with %s",
				c, n.Setting("arrival", ArrivalInf), n.Setting("max_concurrency", c))
		}
	case ArrivalInf:
		if r.has("rate") && !ph.Rate.IsInf() {
			r.errorf("rate", "arrival inf sends every query at once: remove %s, or use poisson, gamma or constant", n.Key("rate"))
		}
		ph.Rate = RateValue{QPS: InfRate}
		if !r.has("max_concurrency") {
			r.errorf("max_concurrency", "required with rate inf: every query is due at once, so cap the requests in flight (e.g. %s)", n.Setting("max_concurrency", "4"))
		}
	default:
		switch {
		case ph.Search != nil && r.has("rate"):
			r.errorf("rate", "a search sets the rate of each trial: remove %s", n.Key("rate"))
		case ph.Search != nil:
		case ph.Ramp != nil && r.has("rate"):
			r.errorf("rate", "ramp sets the rate: remove %s, or remove %s", n.Key("rate"), n.Key("ramp"))
		case ph.Ramp == nil && !r.has("rate") && r.env.Capacity != "":
			r.errorf("rate", "required for arrival %s: queries per second, e.g. %s, or a share of the capacity %s measures, e.g. %s",
				ph.Arrival, n.Setting("rate", "2"), r.env.Capacity, n.Setting("rate", "75%"))
		case ph.Ramp == nil && !r.has("rate"):
			r.errorf("rate", "required for arrival %s: queries per second, e.g. %s", ph.Arrival, n.Setting("rate", "2"))
		case ph.Ramp == nil && !(ph.Rate.QPS > 0 || ph.Rate.Share > 0):
			r.errorf("rate", "must be positive, got %s", ph.Rate)
		}
	}
}

// end checks that exactly one of queries and duration ends the phase, or
// that it is a sync phase making one pass over a dataset.
func (r *resolver) end() {
	ph, n := &r.ph, r.n
	hasQ, hasD := r.has("queries"), r.has("duration")
	if !hasQ {
		ph.Queries = 0
	}
	if !hasD {
		ph.Duration = 0
	}
	q, d := n.Key("queries"), n.Key("duration")
	switch {
	case hasQ && hasD:
		r.errorf("duration", "set %s or %s, not both", q, d)
	case hasQ && ph.Queries < 1:
		r.errorf("queries", "must be at least 1, got %d", ph.Queries)
	case hasD && ph.Duration <= 0:
		r.errorf("duration", "must be positive")
	case hasQ || hasD:
	case ph.Arrival != ArrivalSync:
		r.errorf("", "set %s (how many) or %s (how long) to end the phase", q, d)
	case r.env.Synthetic:
		r.errorf("", "a sync phase without %s or %s makes one pass over the dataset, and a synthetic workload has none: set %s or %s", q, d, q, d)
	}
}

// clients checks a split of the phase across clients (SplitPhase).
func (r *resolver) clients() {
	ph := &r.ph
	switch {
	case !r.has("clients"):
		ph.Clients = 0
	case ph.Clients < 1 || ph.Clients > schema.MaxParts:
		r.errorf("clients", "want 1 to %d clients, got %d", schema.MaxParts, ph.Clients)
	case ph.Clients > 1 && len(r.probs) == 0:
		if err := checkSplit(*ph, ph.Clients, r.n); err != nil {
			r.errorf("clients", "%v", err)
		}
	}
}

// ramp checks a ramp: an open-loop arrival, a strategy and both ends.
func (r *resolver) ramp() {
	ph, rp := &r.ph, r.ph.Ramp
	if ph.Arrival == ArrivalSync || ph.Arrival == ArrivalInf {
		r.errorf("ramp", "a %s phase has no rate to ramp: use poisson, gamma or constant", ph.Arrival)
		return
	}
	if !slices.Contains([]string{RampLinear, RampExponential}, rp.Strategy) {
		r.errorf("ramp.strategy", "want linear or exponential, got %q", rp.Strategy)
	}
	for _, end := range []struct {
		key, where string
		v          RateValue
	}{{"ramp.from", "start", rp.From}, {"ramp.to", "end", rp.To}} {
		switch {
		case !r.has(end.key):
			r.errorf(end.key, "required: the rate in queries/s (or a share of capacity, e.g. 50%%) at the %s of the phase", end.where)
		case end.v.IsInf():
			r.errorf(end.key, "a ramp ends at a finite rate, got inf")
		case !(end.v.QPS > 0 || end.v.Share > 0):
			r.errorf(end.key, "must be positive, got %s", end.v)
		}
	}
}

// writtenOf is the spec of a phase that was already resolved: every key
// that holds a value, except burstiness outside gamma, which the resolver
// itself fills in. Resolving it again gives the same phase, so pre-flight
// can check a plan's phases by the very rules that resolved them.
func writtenOf(ph Phase) PhaseSpec {
	w := map[string]bool{"name": ph.Name != "", "arrival": ph.Arrival != ""}
	w["rate"] = !ph.Rate.IsZero()
	w["saturation_stop"] = ph.SaturationStop || ph.Search != nil
	w["burstiness"] = ph.Arrival == ArrivalGamma
	w["max_concurrency"] = ph.MaxConcurrency != 0
	w["queries"] = ph.Queries != 0
	w["duration"] = ph.Duration != 0
	w["warmup"] = ph.Warmup != 0
	w["seed"] = ph.Seed != 0
	w["request_timeout"] = ph.RequestTimeout != 0
	w["slo"] = ph.SLO != nil
	w["clients"] = ph.Clients != 0
	if ph.Ramp != nil {
		w["ramp"], w["ramp.strategy"], w["ramp.from"], w["ramp.to"] = true, true, true, true
	}
	if s := ph.Search; s != nil {
		w["search"] = true
		for k, set := range map[string]bool{"metric": s.Metric != "", "percentile": s.Percentile != 0, "max": s.Max != 0,
			"max_failed": true, "tolerance": s.Tolerance != 0, "max_trials": s.MaxTrials != 0, "max_time": s.MaxTime != 0,
			"lower": !s.Lower.IsZero(), "upper": !s.Upper.IsZero(), "probe_concurrency": s.ProbeConcurrency != 0} {
			w["search."+k] = set
		}
	}
	return PhaseSpec{Phase: ph, Written: w}
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
	case ph.Search != nil && ph.Arrival == ArrivalGamma:
		return fmt.Sprintf("gamma-b%s-search", f(ph.Burstiness))
	case ph.Search != nil:
		return ph.Arrival + "-search"
	case ph.Ramp != nil:
		return fmt.Sprintf("%s-ramp-%s-%s", ph.Arrival, ph.Ramp.From.label(), ph.Ramp.To.label())
	case ph.Arrival == ArrivalGamma:
		return fmt.Sprintf("gamma-%s-b%s", ph.Rate.label(), f(ph.Burstiness))
	}
	return fmt.Sprintf("%s-%s", ph.Arrival, ph.Rate.label())
}

func joinStrings(s []string) string {
	var b strings.Builder
	for i, x := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}
