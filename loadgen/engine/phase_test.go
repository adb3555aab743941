package engine

import (
	"math"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

// TestPhaseValidate pins the invariants Run relies on; the rules a user's
// phase is held to (and their messages) are package profiles'.
func TestPhaseValidate(t *testing.T) {
	t.Parallel()
	ok := Phase{Name: "p", Arrival: schema.ArrivalPoisson, Rate: 5, Queries: 10}
	with := func(f func(*Phase)) Phase { p := ok; f(&p); return p }
	ramp := &schema.Ramp{Strategy: schema.RampLinear, From: 1, To: 5}
	tests := []struct {
		name string
		ph   Phase
		want []string // substrings; none means valid
	}{
		{"poisson", ok, nil}, // the plain case
		{"gamma", with(func(p *Phase) { p.Arrival, p.Burstiness = schema.ArrivalGamma, 0.5 }), nil},
		{"constant duration", with(func(p *Phase) { p.Arrival, p.Queries, p.Duration = schema.ArrivalConstant, 0, time.Minute }), nil},
		{"sync", Phase{Name: "s", Arrival: schema.ArrivalSync, Queries: 3}, nil},
		{"inf", Phase{Name: "i", Arrival: schema.ArrivalInf, Rate: schema.Inf, MaxConcurrency: 4, Queries: 3}, nil},
		{"ramp", with(func(p *Phase) { p.Rate, p.Ramp = 0, ramp }), nil},
		{"slo", with(func(p *Phase) { p.SLO = &schema.SLO{TTFTMs: 100} }), nil},
		// What the engine ignores is no invariant: burstiness outside
		// gamma, both bounds (the first reached ends the phase), a cap on
		// a sync phase.
		{"ignored", with(func(p *Phase) { p.Burstiness, p.Duration, p.MaxConcurrency = 2, time.Minute, 1 }), nil},
		// The name heads the result and a line of the hlog.
		{"no name", with(func(p *Phase) { p.Name = "" }), []string{"name: must be one line"}},
		{"two-line name", with(func(p *Phase) { p.Name = "a\nb" }), []string{"name: must be one line"}},
		// The schedule needs a known arrival and a positive, finite rate.
		{"bad arrival", with(func(p *Phase) { p.Arrival = "burst" }), []string{`arrival: must be poisson`}},
		{"zero rate", with(func(p *Phase) { p.Rate = 0 }), []string{"rate: must be a positive number"}},
		{"inf rate poisson", with(func(p *Phase) { p.Rate = schema.Inf }), []string{"rate: must be a positive number"}},
		{"nan rate", with(func(p *Phase) { p.Rate = schema.Rate(math.NaN()) }), []string{"rate: must be a positive number"}},
		{"negative rate", with(func(p *Phase) { p.Rate = -1 }), []string{"rate: must be a positive number"}},
		{"gamma without k", with(func(p *Phase) { p.Arrival = schema.ArrivalGamma }), []string{"burstiness: must be a positive"}},
		{"ramp from zero", with(func(p *Phase) { p.Rate, p.Ramp = 0, &schema.Ramp{Strategy: schema.RampLinear, From: 0, To: 5} }), []string{"ramp: from and to must be positive"}},
		{"ramp strategy", with(func(p *Phase) { p.Rate, p.Ramp = 0, &schema.Ramp{Strategy: "step", From: 1, To: 5} }), []string{"ramp.strategy"}},
		// The result records rate and ramp: only what ran.
		{"ramp with rate", with(func(p *Phase) { p.Ramp = ramp }), []string{"rate: must be 0 with a ramp"}},
		{"rate with sync", Phase{Name: "s", Arrival: schema.ArrivalSync, Rate: 3, Queries: 1}, []string{"rate: must be unset for sync"}},
		{"ramp with sync", Phase{Name: "s", Arrival: schema.ArrivalSync, Queries: 1, Ramp: ramp}, []string{"ramp: needs poisson"}},
		// Only the cap bounds an inf phase's requests in flight.
		{"inf without cap", Phase{Name: "i", Arrival: schema.ArrivalInf, Queries: 1}, []string{"max_concurrency: must be at least 1"}},
		// A phase without a bound never ends.
		{"no bound", with(func(p *Phase) { p.Queries = 0 }), []string{"either queries or duration"}},
		{"negatives", with(func(p *Phase) { p.Warmup, p.MaxConcurrency, p.RequestTimeout, p.Duration = -1, -1, -1, -1 }),
			[]string{"max_concurrency: must not", "duration: must not", "warmup: must not", "request_timeout: must not"}},
		{"slo negative", with(func(p *Phase) { p.SLO = &schema.SLO{E2ELMs: -1} }), []string{"slo.e2el_ms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.ph.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("valid, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tc.want) {
				t.Errorf("%d errors, want %d: %v", n, len(tc.want), err)
			}
		})
	}
}
