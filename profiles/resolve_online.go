package profiles

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The rules of the online-capacity keys of a phase: relative rates, the
// search for the capacity at an SLO, and the saturation stop.

// Search defaults.
const (
	DefaultSearchMetric     = "query_latency"
	DefaultSearchPercentile = 99
	DefaultSearchMaxFailed  = Percent(0.01)
	DefaultSearchTolerance  = Percent(0.05)
	DefaultSearchMaxTrials  = 8
	DefaultSearchMaxTime    = Duration(30 * time.Minute)
)

// maxShare bounds a relative rate: 1000% of capacity.
const maxShare = 10

var (
	searchMetrics     = []string{"query_latency", "ttft", "e2el"}
	searchPercentiles = []float64{50, 90, 95, 99, 99.9}
)

// search fills in a search's defaults and checks it. It runs after the
// phase's SLO is merged, whose threshold for the metric is the default.
func (r *resolver) search() {
	ph, n := &r.ph, r.n
	s := *ph.Search // the spec's value is not ours to change
	ph.Search = &s
	if ph.Arrival == ArrivalSync || ph.Arrival == ArrivalInf {
		r.errorf("search", "a search runs trials at constant rates: use %s, gamma or constant", n.Setting("arrival", ArrivalPoisson))
		return
	}
	if ph.Ramp != nil {
		r.errorf("ramp", "a search sets the rate of each trial: remove %s", n.Key("ramp"))
	}
	metricOK := true
	if !r.has("search.metric") {
		s.Metric = DefaultSearchMetric
	} else if metricOK = slices.Contains(searchMetrics, s.Metric); !metricOK {
		r.errorf("search.metric", "want one of %s, got %q", joinStrings(searchMetrics), s.Metric)
	}
	if !r.has("search.percentile") {
		s.Percentile = DefaultSearchPercentile
	} else if !slices.Contains(searchPercentiles, s.Percentile) {
		ps := make([]string, len(searchPercentiles))
		for i, p := range searchPercentiles {
			ps[i] = strconv.FormatFloat(p, 'g', -1, 64)
		}
		r.errorf("search.percentile", "want one of %s (the percentiles a phase result holds), got %g", joinStrings(ps), s.Percentile)
	}
	switch {
	case !r.has("search.max"):
		s.Max = r.sloFor(s.Metric)
		if s.Max == 0 && metricOK {
			r.errorf("search.max", "required: the SLO's threshold on %s, e.g. %s (or set the profile's slo.%s)", s.Metric, n.Setting("max", "2s"), s.Metric)
		}
	case s.Max <= 0:
		r.errorf("search.max", "must be positive")
	}
	if !r.has("search.max_failed") {
		s.MaxFailed = DefaultSearchMaxFailed
	} else if s.MaxFailed < 0 || s.MaxFailed >= 1 {
		r.errorf("search.max_failed", "want a share of the queries from 0%% to under 100%%, got %s", s.MaxFailed)
	}
	if !r.has("search.tolerance") {
		s.Tolerance = DefaultSearchTolerance
	} else if s.Tolerance <= 0 || s.Tolerance > 0.5 {
		r.errorf("search.tolerance", "want a relative width above 0%% and at most 50%%, got %s", s.Tolerance)
	}
	if !r.has("search.max_trials") {
		s.MaxTrials = DefaultSearchMaxTrials
	} else if s.MaxTrials < 2 || s.MaxTrials > 50 {
		r.errorf("search.max_trials", "want 2 to 50 trials, got %d", s.MaxTrials)
	}
	if !r.has("search.max_time") {
		s.MaxTime = DefaultSearchMaxTime
	} else if s.MaxTime <= 0 {
		r.errorf("search.max_time", "must be positive")
	}
	if !r.has("search.lower") {
		s.Lower = RateValue{}
	}
	if !r.has("search.upper") {
		s.Upper = RateValue{}
	}
	if !r.has("search.probe_concurrency") {
		s.ProbeConcurrency = 0
	} else if s.ProbeConcurrency < 1 {
		r.errorf("search.probe_concurrency", "must be at least 1, got %d", s.ProbeConcurrency)
	}
	r.bounds(&s)
	s.Unloaded = r.env.Unloaded
}

// bounds checks a search's lower and upper bounds.
func (r *resolver) bounds(s *Search) {
	for _, b := range []struct {
		key string
		v   RateValue
	}{{"search.lower", s.Lower}, {"search.upper", s.Upper}} {
		switch {
		case !r.has(b.key):
		case b.v.IsInf():
			r.errorf(b.key, "must be a finite rate, got inf")
		case b.v.QPS < 0 || b.v.Share < 0 || b.key == "search.upper" && b.v.IsZero():
			r.errorf(b.key, "must be positive, got %s", b.v)
		}
	}
	if !s.Upper.IsZero() && s.Lower.Relative() == s.Upper.Relative() &&
		s.Lower.QPS+Rate(s.Lower.Share) >= s.Upper.QPS+Rate(s.Upper.Share) {
		r.errorf("search.lower", "must be below search.upper (%s), got %s", s.Upper, s.Lower)
	}
	if s.Upper.IsZero() && s.ProbeConcurrency == 0 && r.env.Capacity == "" {
		r.errorf("search", "needs an upper bound: put an inf phase before it (its capacity is the bound), or set %s, or %s to measure it with a probe trial at rate inf",
			r.n.Key("search.upper"), r.n.Key("search.probe_concurrency"))
	}
}

// sloFor is the phase's SLO threshold for a metric (0: none).
func (r *resolver) sloFor(metric string) Duration {
	s := r.ph.SLO
	if s == nil {
		return 0
	}
	switch metric {
	case "ttft":
		return s.TTFT
	case "e2el":
		return s.E2EL
	}
	return s.QueryLatency
}

// relative checks the phase's shares of capacity: each needs an earlier
// inf phase, whose name the phase records. A search whose upper bound is
// that phase's capacity records it too.
func (r *resolver) relative() {
	ph := &r.ph
	var keys []string
	var shares []RateValue
	add := func(key string, v RateValue) {
		if v.Relative() {
			keys, shares = append(keys, key), append(shares, v)
		}
	}
	add("rate", ph.Rate)
	if ph.Ramp != nil {
		add("ramp.from", ph.Ramp.From)
		add("ramp.to", ph.Ramp.To)
	}
	s := ph.Search
	if s != nil {
		add("search.lower", s.Lower)
		add("search.upper", s.Upper)
	}
	for i, key := range keys {
		switch {
		case r.env.Capacity == "":
			r.errorf(key, "%s is a share of the capacity an earlier inf phase measures, and no inf phase comes before this one: add one before it, e.g. - {arrival: inf, max_concurrency: 4, queries: 12}",
				shares[i])
		case shares[i].Share > maxShare:
			r.errorf(key, "at most %s of capacity, got %s", FormatPercent(maxShare), shares[i])
		}
	}
	usesCapacity := len(keys) > 0 || s != nil && s.Upper.IsZero()
	if usesCapacity && r.env.Capacity != "" {
		ph.Capacity = r.env.Capacity
	}
}

// saturationStop defaults the saturation stop (on in a search) and checks
// that the phase has a rate to be past capacity at.
func (r *resolver) saturationStop() {
	ph := &r.ph
	if !r.has("saturation_stop") {
		ph.SaturationStop = ph.Search != nil
		return
	}
	if ph.SaturationStop && (ph.Arrival == ArrivalSync || ph.Arrival == ArrivalInf) {
		r.errorf("saturation_stop", "only a phase with a rate can be past capacity (poisson, gamma or constant): a sync phase is a closed loop, an inf phase saturated by design")
	}
}

// describe summarises a search in one line; capacity is the phase whose
// capacity is the default upper bound and the basis of shares.
func (s *Search) describe(capacity string) string {
	out := fmt.Sprintf("search p%g %s ≤ %s, failed ≤ %s, tolerance %s, ≤ %d trials in %s",
		s.Percentile, s.Metric, s.Max, s.MaxFailed, s.Tolerance, s.MaxTrials, s.MaxTime)
	if !s.Lower.IsZero() {
		out += ", from " + rateWords(s.Lower, capacity)
	}
	switch {
	case !s.Upper.IsZero():
		out += ", up to " + rateWords(s.Upper, capacity)
	case capacity != "":
		out += ", up to " + capacity + "'s capacity"
	default:
		out += fmt.Sprintf(", up to the capacity a probe at rate inf measures (max_concurrency %d)", s.ProbeConcurrency)
	}
	return out
}
