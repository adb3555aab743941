package loadgen

import (
	"fmt"
	"math"
)

// capacitySearch finds the highest constant arrival rate at which an SLO
// holds, from the trials run so far. It is a pure value, like
// engine.Schedule: no clock, no server; the sweep asks it for the next
// rate, runs a trial there and adds the outcome, until it says it is done.
//
// Why this search. Each trial costs minutes of hardware time, so the
// search must close a 5% bracket in few trials on a curve that is flat at
// low load and steep near capacity:
//
//   - Bisection (vllm bench sweep's first SLA search) needs about
//     log2(1/tolerance) ≈ 5–7 trials from [0, capacity] whatever the curve.
//   - Interpolating the raw latency (its spline version) converges from
//     one side on a convex curve: the failing end never moves.
//   - The inverse latency h(λ) = 1/p(λ) is close to linear in the rate: for
//     an M/M/1 queue p99 = ln(100)/(μ − λ) exactly, and a batching server
//     falls from 1/p(0) to about 0 at capacity. That gives two points for
//     free — (0, 1/latency with no load) from the sync phase and
//     (capacity, 0) from the inf phase — so the first guess,
//     capacity·(1 − unloaded/SLO), needs no trial at all. Later guesses
//     interpolate h linearly between the nearest passing and failing
//     points (regula falsi), or, once two trials passed, extend the secant
//     through the two highest: a latency that barely grows between them
//     sends the next trial to the top of the bracket at once.
//   - Every guess is safeguarded as Brent's and ITP's methods are: kept at
//     least 10% of the bracket inside it, and replaced by the bracket's
//     midpoint when two trials did not halve the bracket, or when a
//     measured fail lies where the line says the SLO would hold (a wall
//     the line cannot see, or errors binding before latency does). A
//     trial stopped early (saturated: censored latency) gives no point.
//   - The bracket is closed deliberately: a guess within the tolerance of
//     an end moves to the rate whose outcome closes it either way
//     (hi·(1 − 0.9·tolerance), or lo/(1 − 0.9·tolerance); the upper bound
//     itself while it is unmeasured), so the answer rests on a measured
//     pass and a measured fail, never on an inferred one.
//
// On synthetic curves (search_test.go: M/M/1, a one-prefill-per-step
// server, a batching knee, errors binding, noise, short trials' flat
// curve with a wall) it ends in 3–7 trials, 84 over the set against 102
// for bisection with the same tolerance. Rates are in queries/s,
// latencies in milliseconds.
type capacitySearch struct {
	spec   searchSpec
	trials []trialOutcome
}

// searchSpec is what a search knows before its first trial.
type searchSpec struct {
	// Lower is the lowest rate to try (0: down to Tolerance × Upper);
	// Upper the highest, the measured capacity, where the SLO is assumed
	// to fail until a trial there says otherwise.
	Lower, Upper float64
	// Tolerance is the relative bracket width that ends the search.
	Tolerance float64
	// MaxTrials bounds the trials.
	MaxTrials int
	// SLO is the latency threshold and Unloaded the latency with no load
	// (0: unknown), at the SLO's percentile.
	SLO, Unloaded float64
}

// trialOutcome is what a trial says about its rate.
type trialOutcome struct {
	Rate float64
	Pass bool
	// Value is the latency at the SLO's percentile; Censored marks one
	// from a trial stopped early (it understates), and a trial that
	// failed on errors rather than latency has no usable value either.
	Value    float64
	Censored bool
	// OnErrors marks a trial that failed on its failed queries while its
	// latency met the SLO.
	OnErrors bool
}

// usable reports whether the trial's latency describes its rate.
func (t trialOutcome) usable() bool { return !t.Censored && t.Value > 0 }

// searchAnswer is where a search stands.
type searchAnswer struct {
	// Capacity is the highest passing rate below every failing one (0:
	// none passed). Pass and Fail index the bracketing trials (-1: none).
	Capacity   float64
	Pass, Fail int
	// Converged says the bracket is closed within the tolerance, or the
	// SLO holds at the upper bound, or cannot hold at any rate tried.
	Converged bool
	Reason    string
}

func newCapacitySearch(spec searchSpec) *capacitySearch {
	return &capacitySearch{spec: spec}
}

// add records a trial's outcome.
func (s *capacitySearch) add(t trialOutcome) { s.trials = append(s.trials, t) }

// bracket returns the highest passing trial below the lowest failing one
// (lo, -1 when none) and that failing trial (hi, -1 when none). A pass at
// or above a fail contradicts a monotone curve; it is set aside, which
// keeps the answer on the safe side.
func (s *capacitySearch) bracket() (lo, hi int) {
	lo, hi = -1, -1
	for i, t := range s.trials {
		if !t.Pass && (hi < 0 || t.Rate < s.trials[hi].Rate) {
			hi = i
		}
	}
	for i, t := range s.trials {
		if t.Pass && (hi < 0 || t.Rate < s.trials[hi].Rate) && (lo < 0 || t.Rate > s.trials[lo].Rate) {
			lo = i
		}
	}
	return lo, hi
}

// answer says where the search stands now.
func (s *capacitySearch) answer() searchAnswer {
	_, done, a := s.step()
	if !done {
		a.Reason = fmt.Sprintf("stopped before the bracket closed: %s", a.Reason)
	}
	return a
}

// next returns the rate of the next trial, or done.
func (s *capacitySearch) next() (rate float64, done bool) {
	rate, done, _ = s.step()
	return rate, done
}

// step decides the next rate or the end, with the answer so far.
func (s *capacitySearch) step() (float64, bool, searchAnswer) {
	sp := s.spec
	loI, hiI := s.bracket()
	a := searchAnswer{Pass: loI, Fail: hiI}
	lo, hi, hiMeasured := 0.0, sp.Upper, hiI >= 0
	if loI >= 0 {
		lo = s.trials[loI].Rate
		a.Capacity = lo
	}
	if hiMeasured {
		hi = s.trials[hiI].Rate
	}
	floor := sp.Lower
	if floor <= 0 {
		floor = sp.Tolerance * sp.Upper
	}
	switch {
	case len(s.trials) == 0 && sp.Unloaded > sp.SLO*(1+sp.Tolerance):
		a.Converged = true
		a.Reason = fmt.Sprintf("the SLO fails with no load at all: the sync phase's latency %s exceeds %s, and queueing only adds to it",
			fmtLatency(sp.Unloaded), fmtLatency(sp.SLO))
		return 0, true, a
	case loI >= 0 && lo >= sp.Upper*(1-1e-9):
		a.Converged = true
		a.Reason = fmt.Sprintf("the SLO holds at the upper bound %.4g q/s, the measured capacity", sp.Upper)
		return 0, true, a
	case hiMeasured && hi <= floor*(1+1e-9):
		a.Converged = true
		if sp.Lower > 0 {
			a.Reason = fmt.Sprintf("the SLO fails at the lower bound %.4g q/s", sp.Lower)
		} else {
			a.Reason = fmt.Sprintf("the SLO fails already at %.4g q/s, %s of the capacity", hi, pct(sp.Tolerance))
		}
		return 0, true, a
	case hiMeasured && loI >= 0 && hi-lo <= sp.Tolerance*hi*(1+1e-9):
		a.Converged = true
		a.Reason = fmt.Sprintf("bracket closed: passes at %.4g q/s, fails at %.4g q/s (%.1f%% apart, tolerance %s)", lo, hi, 100*(hi-lo)/hi, pct(sp.Tolerance))
		return 0, true, a
	case len(s.trials) >= sp.MaxTrials:
		a.Reason = fmt.Sprintf("%d trials, the most allowed; the capacity at the SLO lies between %.4g and %.4g q/s", len(s.trials), lo, hi)
		return 0, true, a
	}
	a.Reason = fmt.Sprintf("the capacity at the SLO lies between %.4g and %.4g q/s", lo, hi)
	return s.propose(lo, hi, hiMeasured, floor), false, a
}

// propose picks the next rate inside the bracket (lo, hi); hiMeasured says
// a trial failed at hi (else hi is the upper bound, assumed to fail).
func (s *capacitySearch) propose(lo, hi float64, hiMeasured bool, floor float64) float64 {
	sp := s.spec
	w := hi - lo
	x := s.interpolate(lo, hi)
	if math.IsNaN(x) || x >= hi && hiMeasured || s.stalled() {
		// No pair to interpolate, or a measured fail where the latency
		// line says the SLO would still hold (a wall the line cannot see,
		// or errors binding before latency does), or no progress: bisect.
		x = lo + w/2
	}
	x = math.Min(math.Max(x, lo+0.1*w), hi-0.1*w)
	closeDown := hi * (1 - 0.9*sp.Tolerance) // a pass here closes the bracket
	closeUp := lo / (1 - 0.9*sp.Tolerance)   // a fail here closes it
	switch {
	case x > closeDown && !hiMeasured:
		x = sp.Upper // near the top: does the SLO hold at capacity itself?
	case x > closeDown:
		x = closeDown
	case lo > 0 && x < closeUp:
		x = math.Min(closeUp, closeDown)
	}
	return math.Max(x, floor)
}

// interpolate estimates where 1/latency crosses 1/SLO. With two passing
// trials at or below lo it extends the secant through the two highest
// (+Inf when latency did not grow between them); otherwise it
// interpolates linearly between the nearest point at or below lo that
// passes and the nearest point at or above hi that fails, among the trials
// with a usable latency and the two free points (0, 1/unloaded) and
// (upper, 0). NaN: no such pair.
func (s *capacitySearch) interpolate(lo, hi float64) float64 {
	sp := s.spec
	target := 1 / sp.SLO
	type point struct{ x, h float64 }
	var p0, p1 *point // the two highest usable passes at or below lo
	for _, t := range s.trials {
		if !t.Pass || !t.usable() || t.Rate > lo {
			continue
		}
		p := point{t.Rate, 1 / t.Value}
		switch {
		case p0 == nil || p.x > p0.x:
			p0, p1 = &p, p0
		case p.x < p0.x && (p1 == nil || p.x > p1.x):
			p1 = &p
		}
	}
	if p0 != nil && p1 != nil {
		if p1.h <= p0.h {
			return math.Inf(1) // latency flat (or noise): the root is far
		}
		return p0.x + (p0.h-target)*(p0.x-p1.x)/(p1.h-p0.h)
	}
	var below, above *point
	consider := func(p point) {
		switch {
		case p.x <= lo && p.h >= target && (below == nil || p.x > below.x):
			below = &p
		case p.x >= hi && p.h < target && (above == nil || p.x < above.x):
			above = &p
		}
	}
	if sp.Unloaded > 0 {
		consider(point{0, 1 / sp.Unloaded})
	}
	consider(point{sp.Upper, 0})
	for _, t := range s.trials {
		if t.usable() {
			consider(point{t.Rate, 1 / t.Value})
		}
	}
	if below == nil || above == nil || below.h == above.h {
		return math.NaN()
	}
	return below.x + (below.h-target)/(below.h-above.h)*(above.x-below.x)
}

// stalled reports whether the last two trials failed to halve the
// bracket between them. A trial at the upper bound itself measures the
// top rather than narrowing the bracket; it does not count as a step.
func (s *capacitySearch) stalled() bool {
	n := len(s.trials)
	if n < 2 || s.trials[n-1].Rate >= s.spec.Upper*(1-1e-9) {
		return false
	}
	width := func(k int) float64 { // the bracket after the first k trials
		t := &capacitySearch{spec: s.spec, trials: s.trials[:k]}
		lo, hi := t.bracket()
		l, h := 0.0, s.spec.Upper
		if lo >= 0 {
			l = t.trials[lo].Rate
		}
		if hi >= 0 {
			h = t.trials[hi].Rate
		}
		return h - l
	}
	return width(n) > 0.5*width(n-2)
}

func fmtLatency(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.3g s", ms/1000)
	}
	return fmt.Sprintf("%.3g ms", ms)
}

func pct(share float64) string { return fmt.Sprintf("%g%%", math.Round(share*1e6)/1e4) }
