package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"loadgen/loadgen/schema"
)

// Phase describes one load phase: how queries arrive, how many, for how
// long and under which limits. Rates count queries (items), not requests.
type Phase struct {
	// Name names the phase; results are written as <Name>.json.
	Name string
	// Arrival is one of ArrivalPoisson, ArrivalGamma, ArrivalConstant,
	// ArrivalSync or ArrivalInf.
	Arrival string
	// Rate is the target arrival rate in queries per second (open loop).
	// It is 0 for sync arrivals and with a Ramp, 0 or Inf for inf.
	Rate schema.Rate
	// Burstiness is the gamma shape k (gamma arrivals; the others ignore
	// it).
	Burstiness float64
	// MaxConcurrency caps in-flight requests (0: no cap). Required by inf.
	MaxConcurrency int
	// Queries is the number of measured queries (0: bounded by Duration).
	Queries int
	// Duration bounds the phase: no arrival is scheduled after it (0:
	// bounded by Queries).
	Duration time.Duration
	// Warmup queries are sent one at a time before measurement and are
	// excluded from every statistic.
	Warmup int
	// Seed seeds the arrival schedule.
	Seed int64
	// Ramp, when set, changes the rate from Ramp.From to Ramp.To over the
	// phase (poisson, gamma and constant arrivals).
	Ramp *schema.Ramp
	// RequestTimeout bounds each request, from send to the end of its
	// stream (0: no timeout).
	RequestTimeout time.Duration
	// SLO holds the goodput thresholds (nil: goodput is not computed; request
	// goodput needs a TTFT or E2E threshold).
	SLO *schema.SLO
	// Saturation, when set, stops a poisson, gamma or constant phase
	// early once it is clearly past capacity (see SaturationStop).
	Saturation *SaturationStop
}

// Validate checks the invariants Run relies on — what must hold for the
// schedule, the dispatcher and the result to be well defined, bounded and
// true to what ran — and returns every one broken, joined, each naming the
// phase and the field. It is not where a user's phase is judged: package
// profiles resolves phases from profiles and from `loadgen run` flags, with
// defaults and messages that say what to do, and every phase it resolves
// holds these invariants.
func (p Phase) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("phase %q: %s: "+format, append([]any{p.Name, field}, args...)...))
	}
	// The name heads the result and a comment line of the hlog.
	if p.Name == "" || strings.ContainsAny(p.Name, "\r\n") {
		bad("name", "must be one line, not empty (got %q)", p.Name)
	}
	positive := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) } // false for NaN
	switch p.Arrival {
	case schema.ArrivalPoisson, schema.ArrivalGamma, schema.ArrivalConstant:
		// The schedule divides by the rate, or by the ramp's.
		if r := p.Ramp; r != nil {
			if p.Rate != 0 {
				bad("rate", "must be 0 with a ramp, which sets the rate (got %v)", p.Rate)
			}
			if r.Strategy != schema.RampLinear && r.Strategy != schema.RampExponential {
				bad("ramp.strategy", "must be linear or exponential (got %q)", r.Strategy)
			}
			if !positive(r.From) || !positive(r.To) {
				bad("ramp", "from and to must be positive rates (got %v, %v)", r.From, r.To)
			}
		} else if !positive(float64(p.Rate)) {
			bad("rate", "must be a positive number for %s arrivals (got %v)", p.Arrival, p.Rate)
		}
	case schema.ArrivalSync, schema.ArrivalInf:
		// The result records the rate and the ramp: none may be recorded
		// that did not run.
		if p.Rate != 0 && !(p.Arrival == schema.ArrivalInf && p.Rate.IsInf()) {
			bad("rate", "must be unset for %s arrivals (got %v)", p.Arrival, p.Rate)
		}
		if p.Ramp != nil {
			bad("ramp", "needs poisson, gamma or constant arrivals, not %s", p.Arrival)
		}
	default:
		bad("arrival", "must be poisson, gamma, constant, sync or inf (got %q)", p.Arrival)
	}
	if p.Arrival == schema.ArrivalGamma && !positive(p.Burstiness) {
		bad("burstiness", "must be a positive number for gamma arrivals (got %v)", p.Burstiness)
	}
	// Every arrival of an inf phase is due at once: only the cap bounds
	// the requests in flight.
	if p.Arrival == schema.ArrivalInf && p.MaxConcurrency < 1 {
		bad("max_concurrency", "must be at least 1 with inf arrivals (got %d)", p.MaxConcurrency)
	}
	for _, f := range []struct {
		name string
		neg  bool
	}{{"max_concurrency", p.MaxConcurrency < 0}, {"queries", p.Queries < 0}, {"duration", p.Duration < 0},
		{"warmup", p.Warmup < 0}, {"request_timeout", p.RequestTimeout < 0}} {
		if f.neg {
			bad(f.name, "must not be negative")
		}
	}
	// Without a bound the phase never ends.
	if p.Queries == 0 && p.Duration == 0 {
		bad("queries", "either queries or duration must be set")
	}
	if s := p.SLO; s != nil {
		for _, f := range []struct {
			name string
			v    float64
		}{{"slo.ttft_ms", s.TTFTMs}, {"slo.e2el_ms", s.E2ELMs}, {"slo.query_latency_ms", s.QueryLatencyMs}} {
			if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
				bad(f.name, "must be a non-negative number of milliseconds (got %v)", f.v)
			}
		}
	}
	if s := p.Saturation; s != nil {
		switch {
		case p.Arrival == schema.ArrivalSync || p.Arrival == schema.ArrivalInf:
			bad("saturation", "needs poisson, gamma or constant arrivals, not %s", p.Arrival)
		case s.Latency < 0 || s.MinSpan < 0 || s.Window < 0:
			bad("saturation", "durations must not be negative")
		case s.Percentile < 0 || s.Percentile > 100 || math.IsNaN(s.Percentile):
			bad("saturation.percentile", "must be within 0–100 (got %v)", s.Percentile)
		case !(s.MaxFailed >= 0 && s.MaxFailed <= 1):
			bad("saturation.max_failed", "must be a share within 0–1 (got %v)", s.MaxFailed)
		case s.Factor != 0 && !(s.Factor >= 1 && !math.IsInf(s.Factor, 0)):
			bad("saturation.factor", "must be at least 1 (got %v)", s.Factor)
		}
	}
	return errors.Join(errs...)
}

// open reports whether arrivals follow a precomputed open-loop schedule.
func (p Phase) open() bool {
	switch p.Arrival {
	case schema.ArrivalPoisson, schema.ArrivalGamma, schema.ArrivalConstant, schema.ArrivalInf:
		return true
	}
	return false
}

// burstiness is the gamma shape written to the result: k for gamma, 1 for
// poisson (exponential gaps are gamma with k=1), 0 where it has no meaning.
func (p Phase) burstiness() float64 {
	switch p.Arrival {
	case schema.ArrivalGamma:
		return p.Burstiness
	case schema.ArrivalPoisson:
		return 1
	}
	return 0
}

// targetRate is the rate written to the result: Inf for inf arrivals.
func (p Phase) targetRate() schema.Rate {
	if p.Arrival == schema.ArrivalInf {
		return schema.Inf
	}
	return p.Rate
}
