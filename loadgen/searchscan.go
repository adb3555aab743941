package loadgen

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// The brute-force check of a search (Options.CheckSearches, `loadgen sim
// check-search`): after a search phase, the same server runs fixed-rate
// trials of the search's own design (arrival, queries or duration, seed,
// saturation stop) on a grid over its bounds — Upper/20 steps from the
// top down, then four between the highest pass and the lowest fail above
// it — and writes <config>/<phase>.scan.json beside the search, with each
// trial's <phase>.scan-NN.json and .hlog. The true capacity at the SLO is
// the highest passing rate below the lowest failing one.

// scanSteps is the coarse grid: Upper/scanSteps apart.
const scanSteps = 20

// checkSearch runs the brute-force check of a finished search phase and
// writes its record.
func (r *configRun) checkSearch(ctx context.Context, ph profiles.Phase, wl *builtWorkload, res *schema.PhaseResult) error {
	rec := res.Search
	began := time.Now()
	chk := &schema.SearchCheck{SearchPhase: ph.Name, Simulated: r.o.Simulate, SLO: rec.SLO, Tolerance: rec.Tolerance,
		Upper: rec.Upper, Search: rec.CapacityAtSLO, SearchTrials: len(rec.Trials), SearchSeconds: rec.Seconds}
	if rec.Upper <= 0 {
		return fmt.Errorf("check of %s: the search has no upper bound", ph.Name)
	}
	for _, t := range rec.Trials {
		if t.Discarded {
			chk.SearchSetAside++
		}
	}
	s := &search{configRun: r, ph: ph, wl: wl, slo: rec.SLO, began: began, results: map[int]*schema.PhaseResult{},
		rec: &schema.SearchResult{SLO: rec.SLO, Tolerance: rec.Tolerance, Trials: []schema.Trial{}}}
	// run runs one fixed-rate trial at rate, and once more when it
	// measured the client rather than the server (search.stalled).
	run := func(rate float64) error {
		for attempt := 0; ; attempt++ {
			n := len(chk.Trials) + 1
			tph, stop := trialPhase(ph, n, rate, false)
			tph.Name = schema.ScanName(ph.Name, n)
			if n > 1 {
				r.waitIdle(ctx)
			}
			tres, err := r.measurePhase(ctx, tph, wl, stop, nil)
			if err != nil {
				return err
			}
			if stopsSearch(tres) {
				return fmt.Errorf("check trial %s ended: %s", tph.Name, tres.EndReason)
			}
			t := schema.Trial{N: n, Phase: tph.Name, File: schema.PhaseFile(r.c.Name, tph.Name), Rate: rate,
				EndReason: tres.EndReason, Duration: tres.Duration, Throughput: tres.QueryThroughput,
				Queries: tres.QueriesCompleted + tres.QueriesFailed, Value: percentileOf(tres, rec.SLO)}
			if t.Queries > 0 {
				t.FailedShare = float64(tres.QueriesFailed) / float64(t.Queries)
			}
			s.rec.Trials = append(s.rec.Trials, t)
			s.decide(len(s.rec.Trials)-1, tres)
			last := &s.rec.Trials[len(s.rec.Trials)-1]
			if why := s.stalled(tres); why != "" && attempt == 0 {
				last.Discarded, last.Why = true, why
				chk.Trials = append(chk.Trials, *last)
				r.pr.Eventf("%s: check %s at %.4g q/s set aside, run again: %s", r.tag(), tph.Name, rate, why)
				continue
			}
			chk.Trials = append(chk.Trials, *last)
			r.pr.Eventf("%s: check %s at %.4g q/s: %s", r.tag(), tph.Name, rate, verdictOf(*last, rec.SLO))
			return nil
		}
	}
	for k := scanSteps; k >= 1; k-- {
		if err := run(rec.Upper * float64(k) / scanSteps); err != nil {
			return err
		}
	}
	if lo, hi := scanBracket(chk.Trials); hi > 0 && hi-lo > rec.Upper/(5*scanSteps) {
		for k := 1; k <= 4; k++ {
			if err := run(lo + (hi-lo)*float64(k)/5); err != nil {
				return err
			}
		}
	}
	chk.Truth, chk.TruthFail = scanBracket(chk.Trials)
	for _, t := range chk.Trials {
		if t.Pass && !t.Discarded && chk.TruthFail > 0 && t.Rate > chk.TruthFail {
			chk.Inversions++
		}
	}
	switch {
	case chk.Truth > 0:
		chk.Error = (chk.Search - chk.Truth) / chk.Truth
	case chk.Search > 0:
		chk.Error = math.Inf(1)
	}
	chk.Within = math.Abs(chk.Error) <= chk.Tolerance+1e-9
	chk.Seconds = time.Since(began).Seconds()
	if math.IsInf(chk.Error, 0) {
		chk.Error = 0 // JSON has no infinity; Within says it
	}
	return r.writeJSON(filepath.Join(r.sweeper.dir, schema.ScanFile(r.c.Name, ph.Name)), chk)
}

// scanBracket is the highest passing rate below the lowest failing one
// among trials that measured something and were not set aside (0 when
// none passed), and that failing rate (0 when none failed).
func scanBracket(trials []schema.Trial) (pass, fail float64) {
	var sorted []schema.Trial
	for _, t := range trials {
		if !t.Discarded {
			sorted = append(sorted, t)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Rate < sorted[j].Rate })
	for _, t := range sorted {
		if !t.Pass && t.Queries > 0 {
			fail = t.Rate
			break
		}
	}
	for _, t := range sorted {
		if t.Pass && (fail == 0 || t.Rate < fail) {
			pass = t.Rate
		}
	}
	return pass, fail
}

// verdictOf says a trial's verdict in a few words.
func verdictOf(t schema.Trial, slo schema.SearchSLO) string {
	if t.Pass {
		return fmt.Sprintf("SLO held: p%g %s %s", slo.Percentile, slo.Metric, fmtLatency(t.Value))
	}
	return "SLO missed: " + clip(t.Why, 120)
}
