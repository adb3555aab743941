package profiles

import (
	"fmt"
	"math"
	"time"

	"loadgen/loadgen/schema"
)

// MaxPhaseArrivals bounds the arrivals one phase may plan: queries plus
// warmup, or, for an open-loop phase that runs for a duration, its rate
// (the highest of a ramp) times the duration plus warmup. A billion
// queries is days of load at the rate loadgen can send (a few thousand
// queries per second on two cores) and beyond what a sweep measures, so a
// larger plan is a typo (queries: 1000000000000) that pre-flight refuses
// before anything is scheduled.
const MaxPhaseArrivals = 1_000_000_000

// size refuses a phase that plans more than MaxPhaseArrivals arrivals.
func (r *resolver) size() {
	ph, n := &r.ph, r.n
	switch planned, rate := plannedArrivals(*ph); {
	case planned <= MaxPhaseArrivals:
	case ph.Queries > 0:
		r.errorf("queries", "%d queries (and %d warmup) are more than %d, loadgen's bound for one phase: is %s a typo?",
			ph.Queries, ph.Warmup, MaxPhaseArrivals, n.Setting("queries", fmt.Sprint(ph.Queries)))
	case ph.Duration > 0:
		r.errorf("duration", "%s at %g queries/s plans about %.3g arrivals, more than %d, loadgen's bound for one phase: shorten %s or lower the rate",
			ph.Duration, rate, planned, MaxPhaseArrivals, n.Key("duration"))
	default:
		r.errorf("warmup", "%d warmup queries are more than %d, loadgen's bound for one phase", ph.Warmup, MaxPhaseArrivals)
	}
}

// plannedArrivals is how many arrivals the phase plans (as a float: rate
// times duration may exceed any integer), and the rate it assumed for a
// phase that runs for a duration (0 when there is none: a sync or inf
// phase sends as its queries finish, and plans no schedule).
func plannedArrivals(ph Phase) (planned, rate float64) {
	planned = float64(ph.Warmup)
	if ph.Queries > 0 {
		return planned + float64(ph.Queries), 0
	}
	rate = peakRate(ph)
	if ph.Duration > 0 && rate > 0 && !math.IsInf(rate, 1) {
		planned += rate * ph.Duration.D().Seconds()
	}
	return planned, rate
}

// peakRate is the phase's highest planned rate in queries/s: its rate, or
// the higher end of its ramp; 0 for sync, and for what is known only once
// a capacity is measured (a share of it, a search's trials).
func peakRate(ph Phase) float64 {
	if ph.Ramp != nil {
		return max(float64(ph.Ramp.From.QPS), float64(ph.Ramp.To.QPS))
	}
	if ph.Arrival == ArrivalSync {
		return 0
	}
	return float64(ph.Rate.QPS)
}

// longPhaseWarning says, for a phase whose measured part is planned to last
// longer than the histograms' range (schema.HistSpan), what that costs;
// "" otherwise. The measured part of a queries phase lasts at least its
// queries over the peak rate; a sync or inf phase with queries has no
// planned length.
func longPhaseWarning(ph Phase) string {
	var planned time.Duration
	switch rate := peakRate(ph); {
	case ph.Duration > 0:
		planned = ph.Duration.D()
	case ph.Queries > 0 && rate > 0 && !math.IsInf(rate, 1):
		planned = time.Duration(float64(ph.Queries) / rate * float64(time.Second))
	}
	if planned <= schema.HistSpan {
		return ""
	}
	return fmt.Sprintf("phase %s: its measured part is planned to last %s, longer than the %s the latency histograms hold: a response time or schedule lag beyond %s (a phase that falls that far behind) is not recorded; split it into shorter phases",
		ph.Name, planned.Round(time.Minute), schema.HistSpan, schema.HistSpan)
}
