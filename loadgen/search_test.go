package loadgen

import (
	"math"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
)

// curve is a synthetic latency-vs-rate curve: the latency (ms) at the
// SLO's percentile at rate x (q/s), and whether a trial at x fails on
// errors whatever its latency.
type curve struct {
	name    string
	latency func(x float64) float64
	errors  func(x float64) bool
}

// mm1 is an M/M/1 queue of service rate mu (q/s): p99 = ln(100)/(mu − x).
func mm1(mu float64) func(float64) float64 {
	return func(x float64) float64 {
		if x >= mu {
			return math.Inf(1)
		}
		return 1000 * math.Log(100) / (mu - x)
	}
}

// md1 is a slow server (service s ms) whose latency is flat at low load and
// steep near capacity mu, like the simulator's one prefill per step.
func md1(s, mu float64) func(float64) float64 {
	return func(x float64) float64 {
		r := x / mu
		if r >= 1 {
			return math.Inf(1)
		}
		return s * (1 + 2.5*r*r/(1-r))
	}
}

// knee is a batching server: flat latency until 80% of capacity, then a
// wall.
func knee(s, mu float64) func(float64) float64 {
	return func(x float64) float64 {
		r := x / mu
		switch {
		case r >= 1:
			return math.Inf(1)
		case r < 0.8:
			return s * (1 + 0.1*r)
		}
		return s * (1.08 + 40*(r-0.8)*(r-0.8)/(1-r))
	}
}

// noisy multiplies a curve by a deterministic ±amp wobble, so the curve
// is not quite monotone near the crossing.
func noisy(f func(float64) float64, amp float64) func(float64) float64 {
	return func(x float64) float64 { return f(x) * (1 + amp*math.Sin(97*x)) }
}

// truthSteps is the resolution of truth's scan.
const truthSteps = 200000

// truth finds the curve's capacity at the SLO by a fine scan: the
// highest rate below the first failing one.
func truth(c curve, slo, upper float64) float64 {
	best := 0.0
	for i := 1; i <= truthSteps; i++ {
		x := upper * float64(i) / truthSteps
		if c.latency(x) > slo || c.errors != nil && c.errors(x) {
			break
		}
		best = x
	}
	return best
}

// runSearch runs a search on a curve; censor makes every failing trial a
// stopped one, whose latency is unusable (as the exact early stop makes
// every failing trial of a short search).
func runSearch(c curve, spec searchSpec, censor bool) (searchAnswer, []trialOutcome) {
	s := newCapacitySearch(spec)
	for {
		x, done := s.next()
		if done {
			return s.answer(), s.trials
		}
		v := c.latency(x)
		failed := c.errors != nil && c.errors(x)
		pass := v <= spec.SLO && !failed
		t := trialOutcome{Rate: x, Pass: pass, Value: math.Min(v, 1e9)}
		if !pass && (censor || math.IsInf(v, 1)) {
			t.Censored = true
			t.Value = spec.SLO * 1.01
		}
		if failed && v <= spec.SLO {
			t.OnErrors = true // the error rate, not the latency, failed it
		}
		s.add(t)
	}
}

// TestCapacitySearch: on synthetic curves of every shape the search ends
// within its tolerance of the true capacity at the SLO, on a measured pass
// below it, in few trials, and in fewer over the whole set than bisection
// with the same tolerance (whose count is printed beside each).
func TestCapacitySearch(t *testing.T) {
	t.Parallel()
	ours, bisection := 0, 0
	cases := []struct {
		c         curve
		upper     float64
		slo       float64
		maxTrials int // the most this curve may take
	}{
		// M/M/1: 1/p99 is exactly linear, the first guess is the answer.
		{curve{name: "M/M/1, SLO 2 s", latency: mm1(3)}, 3, 2000, 3},
		// The simulator's shape: flat, then steep near capacity.
		{curve{name: "slow server, SLO 1 s", latency: md1(320, 3.15)}, 3.15, 1000, 5},
		{curve{name: "slow server, SLO 3 s", latency: md1(1220, 0.81)}, 0.81, 3000, 5},
		// A batching server's wall at 80–95% of capacity.
		{curve{name: "knee, SLO 1 s", latency: knee(400, 10)}, 10, 1000, 5},
		// Latency within the SLO everywhere, errors from 6 q/s on: the
		// error rate binds and gives no latency to interpolate.
		{curve{name: "errors bind", latency: mm1(20), errors: func(x float64) bool { return x > 6 }}, 10, 2000, 6},
		// A ±3% wobble near the crossing.
		{curve{name: "noisy M/D/1", latency: noisy(md1(300, 5), 0.03)}, 5, 1500, 7},
		// Short trials: latency stays flat up to 97% of capacity, then a
		// wall (what 20-query trials see on the simulator).
		{curve{name: "flat to the wall", latency: func(x float64) float64 {
			if x > 0.97*3.18 {
				return math.Inf(1)
			}
			return 870 + 10*x
		}}, 3.18, 1000, 7},
		// Short trials that hold the SLO up to capacity itself.
		{curve{name: "flat to capacity", latency: func(x float64) float64 { return 870 + 10*x }}, 3.18, 1000, 4},
		// A tight SLO: the answer is a small share of capacity.
		{curve{name: "tight SLO", latency: md1(1000, 1)}, 1, 1150, 7},
	}
	for _, tc := range cases {
		want := truth(tc.c, tc.slo, tc.upper)
		for _, censor := range []bool{false, true} {
			spec := searchSpec{Upper: tc.upper, Tolerance: 0.05, MaxTrials: 12, SLO: tc.slo, Unloaded: tc.c.latency(0)}
			a, trials := runSearch(tc.c, spec, censor)
			name := tc.c.name
			if censor {
				name += " (failing trials stopped early)"
			}
			bis := bisectionTrials(tc.c, spec)
			ours, bisection = ours+len(trials), bisection+bis
			t.Logf("%-52s truth %.4g, found %.4g in %d trials (bisection %d): %s", name, want, a.Capacity, len(trials), bis, a.Reason)
			switch {
			case !a.Converged:
				t.Errorf("%s: not converged after %d trials: %s", name, len(trials), a.Reason)
			case a.Capacity > want+tc.upper/truthSteps:
				t.Errorf("%s: capacity %.4g above the truth %.4g", name, a.Capacity, want)
			case a.Capacity < want*(1-spec.Tolerance):
				t.Errorf("%s: capacity %.4g more than 5%% below the truth %.4g", name, a.Capacity, want)
			case len(trials) > tc.maxTrials:
				t.Errorf("%s: %d trials, want at most %d", name, len(trials), tc.maxTrials)
			case a.Pass < 0 || !trials[a.Pass].Pass || a.Fail >= 0 && trials[a.Fail].Pass:
				t.Errorf("%s: bracket %d/%d is not a measured pass and fail", name, a.Pass, a.Fail)
			}
		}
	}
	t.Logf("trials in all: %d; bisection: %d", ours, bisection)
	if ours >= bisection {
		t.Errorf("%d trials in all, bisection %d: the search does not pay for itself", ours, bisection)
	}
}

// bisectionTrials counts the trials of plain bisection with the same
// tolerance, for comparison.
func bisectionTrials(c curve, spec searchSpec) int {
	lo, hi, n := 0.0, spec.Upper, 0
	for hi-lo > spec.Tolerance*hi && n < 30 {
		x := (lo + hi) / 2
		n++
		if c.latency(x) <= spec.SLO && (c.errors == nil || !c.errors(x)) {
			lo = x
		} else {
			hi = x
		}
	}
	return n
}

// TestCapacitySearchEnds: the ends that are not a closed bracket.
func TestCapacitySearchEnds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		c        curve
		spec     searchSpec
		capacity float64
		trials   int
		reason   string
		conv     bool
	}{
		// Slower than the SLO with no load: no trial is needed.
		{"unloaded over the SLO", curve{latency: md1(1200, 0.8)}, searchSpec{Upper: 0.8, Tolerance: 0.05, MaxTrials: 8, SLO: 1000, Unloaded: 1200},
			0, 0, "fails with no load", true},
		// The SLO holds up to capacity itself: the top is measured.
		{"holds at capacity", curve{latency: func(float64) float64 { return 500 }}, searchSpec{Upper: 3, Tolerance: 0.05, MaxTrials: 8, SLO: 2000, Unloaded: 300},
			3, 2, "holds at the upper bound", true},
		// It fails at the lowest rate worth trying.
		{"fails everywhere", curve{latency: func(x float64) float64 { return 900 + 1e5*x }}, searchSpec{Upper: 10, Tolerance: 0.05, MaxTrials: 8, SLO: 1000},
			0, 0, "fails already at 0.5", true},
		// Below a stated lower bound.
		{"fails at the lower bound", curve{latency: mm1(1)}, searchSpec{Lower: 0.5, Upper: 1, Tolerance: 0.05, MaxTrials: 8, SLO: 2000},
			0, 0, "fails at the lower bound 0.5", true},
		// The trial budget runs out first: the bracket so far is the answer.
		{"budget", curve{latency: md1(300, 5)}, searchSpec{Upper: 5, Tolerance: 0.01, MaxTrials: 2, SLO: 1500, Unloaded: 300},
			-1, 2, "2 trials, the most allowed", false},
	}
	for _, tc := range cases {
		a, trials := runSearch(tc.c, tc.spec, true)
		if a.Converged != tc.conv || !strings.Contains(a.Reason, tc.reason) ||
			tc.capacity >= 0 && math.Abs(a.Capacity-tc.capacity) > 1e-9 || tc.trials > 0 && len(trials) != tc.trials {
			t.Errorf("%s: %+v after %d trials %+v", tc.name, a, len(trials), trials)
		}
	}
}

// TestCapacitySearchContradiction: a pass above a fail (noise) is set
// aside; the answer stays on the safe side of the fail.
func TestCapacitySearchContradiction(t *testing.T) {
	t.Parallel()
	s := newCapacitySearch(searchSpec{Upper: 10, Tolerance: 0.05, MaxTrials: 8, SLO: 1000})
	s.add(trialOutcome{Rate: 5, Pass: false, Value: 1100})
	s.add(trialOutcome{Rate: 6, Pass: true, Value: 900})
	s.add(trialOutcome{Rate: 4, Pass: true, Value: 800})
	lo, hi := s.bracket()
	if lo != 2 || hi != 0 {
		t.Fatalf("bracket %d, %d; want the pass at 4 and the fail at 5", lo, hi)
	}
	if x, done := s.next(); done || x <= 4 || x >= 5 {
		t.Errorf("next %v, %v; want a rate inside (4, 5)", x, done)
	}
}

// TestScanBracket: the brute-force check's truth is the highest passing
// rate below the lowest failing one; a failing trial that measured nothing
// (no query arrived in it) says nothing and is left out.
func TestScanBracket(t *testing.T) {
	t.Parallel()
	tr := func(rate float64, pass bool, queries int) schema.Trial {
		return schema.Trial{Rate: rate, Pass: pass, Queries: queries}
	}
	cases := []struct {
		name       string
		trials     []schema.Trial
		pass, fail float64
	}{
		{"monotone", []schema.Trial{tr(3, false, 30), tr(2, false, 20), tr(1, true, 10)}, 1, 2},
		// A pass above the lowest fail (noise) does not count.
		{"inversion", []schema.Trial{tr(3, true, 30), tr(2, false, 20), tr(1, true, 10)}, 1, 2},
		{"all pass", []schema.Trial{tr(3, true, 30), tr(1, true, 10)}, 3, 0},
		{"all fail", []schema.Trial{tr(3, false, 30), tr(1, false, 10)}, 0, 1},
		// At 0.05 q/s no query arrived in the trial: no evidence either way.
		{"empty fail", []schema.Trial{tr(0.05, false, 0), tr(1, true, 10), tr(2, false, 20)}, 1, 2},
		// A trial set aside (the client fell behind) says nothing either.
		{"set aside", []schema.Trial{tr(1, true, 10), {Rate: 1.5, Queries: 15, Discarded: true}, tr(1.5, true, 15), tr(2, false, 20)}, 1.5, 2},
	}
	for _, tc := range cases {
		if p, f := scanBracket(tc.trials); p != tc.pass || f != tc.fail {
			t.Errorf("%s: scanBracket = %g, %g; want %g, %g", tc.name, p, f, tc.pass, tc.fail)
		}
	}
}
