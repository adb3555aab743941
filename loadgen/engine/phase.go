package engine

import (
	"loadgen/loadgen/schema"

	"errors"
	"fmt"
	"math"
	"regexp"
	"time"
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
	// It must be 0 or Inf for sync and inf arrivals and with a Ramp.
	Rate schema.Rate
	// Burstiness is the gamma shape k (gamma arrivals only; 0 or 1 with
	// other arrivals).
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
}

var phaseName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Validate checks every rule of a phase and returns all violations joined
// into one error, each naming the field.
func (p Phase) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("phase %q: %s: "+format, append([]any{p.Name, field}, args...)...))
	}
	if !phaseName.MatchString(p.Name) {
		bad("name", "must be letters, digits, '.', '_' or '-' (got %q)", p.Name)
	}
	rate := float64(p.Rate)
	switch {
	case math.IsNaN(rate):
		bad("rate", "must be a number")
	case rate < 0:
		bad("rate", "must not be negative (got %v)", p.Rate)
	}
	open := false
	switch p.Arrival {
	case schema.ArrivalPoisson, schema.ArrivalGamma, schema.ArrivalConstant:
		open = true
		switch {
		case p.Ramp != nil:
			if rate != 0 && !p.Rate.IsInf() {
				bad("rate", "must be unset (or inf) with a ramp, which sets the rate")
			}
		case rate == 0 || p.Rate.IsInf():
			bad("rate", "must be a positive number for %s arrivals (got %v)", p.Arrival, p.Rate)
		}
	case schema.ArrivalSync, schema.ArrivalInf:
		if rate != 0 && !p.Rate.IsInf() {
			bad("rate", "must be unset or inf for %s arrivals (got %v)", p.Arrival, p.Rate)
		}
		if p.Ramp != nil {
			bad("ramp", "needs poisson, gamma or constant arrivals, not %s", p.Arrival)
		}
	default:
		bad("arrival", "must be poisson, gamma, constant, sync or inf (got %q)", p.Arrival)
	}
	k := p.Burstiness
	switch {
	case p.Arrival == schema.ArrivalGamma:
		if !(k > 0) || math.IsInf(k, 0) {
			bad("burstiness", "must be a positive number for gamma arrivals (got %v)", k)
		}
	case k != 0 && k != 1:
		bad("burstiness", "applies to gamma arrivals only; must be 0 or 1 for %s (got %v)", p.Arrival, k)
	}
	if p.MaxConcurrency < 0 {
		bad("max_concurrency", "must not be negative (got %d)", p.MaxConcurrency)
	}
	if p.Arrival == schema.ArrivalInf && p.MaxConcurrency == 0 {
		bad("max_concurrency", "is required with inf arrivals")
	}
	if p.Queries < 0 {
		bad("queries", "must not be negative (got %d)", p.Queries)
	}
	if p.Duration < 0 {
		bad("duration", "must not be negative (got %v)", p.Duration)
	}
	if p.Queries == 0 && p.Duration == 0 {
		bad("queries", "either queries or duration must be set")
	}
	if p.Warmup < 0 {
		bad("warmup", "must not be negative (got %d)", p.Warmup)
	}
	if p.RequestTimeout < 0 {
		bad("request_timeout", "must not be negative (got %v)", p.RequestTimeout)
	}
	if r := p.Ramp; r != nil && open {
		if r.Strategy != schema.RampLinear && r.Strategy != schema.RampExponential {
			bad("ramp.strategy", "must be linear or exponential (got %q)", r.Strategy)
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"ramp.from", r.From}, {"ramp.to", r.To}} {
			if !(f.v > 0) || math.IsInf(f.v, 0) {
				bad(f.name, "must be a positive rate (got %v)", f.v)
			}
		}
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
