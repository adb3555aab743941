package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"loadgen/loadgen/engine"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
)

// A search phase runs as trials: each a sub-phase at one constant rate
// (the phase's arrival, queries or duration, warmup and seed), written as
// <config>/<phase>.trial-NN.json and .hlog and listed in the manifest
// under the search, so that every claim of the answer can be checked. The
// search phase's own <phase>.json holds the measurements of the passing
// trial at the answer (its .hlog, scores and request log are copies of
// that trial's) with the search record: the SLO, the bounds, every trial
// and the two that bracket the answer. A trial that measured the client
// rather than the server is set aside and its rate runs again. A resumed
// search starts again from its first trial: the trials of an earlier
// attempt are removed first.

// idleWait bounds the wait, before a trial, for the server to finish what
// an earlier trial left (a saturated trial's aborted requests).
const idleWait = 30 * time.Second

// search is one search phase under way.
type search struct {
	*configRun
	ph      profiles.Phase
	wl      *builtWorkload
	slo     schema.SearchSLO
	rec     *schema.SearchResult
	began   time.Time
	results map[int]*schema.PhaseResult // by trial number
	numbers []int                       // trial number of each search trial (the probe is not one)
}

// runSearch runs a search phase and writes its result.
func (r *configRun) runSearch(ctx context.Context, ph profiles.Phase, wl *builtWorkload) (*schema.PhaseResult, error) {
	sp := ph.Search
	s := &search{configRun: r, ph: ph, wl: wl, began: time.Now(), results: map[int]*schema.PhaseResult{},
		slo: schema.SearchSLO{Metric: sp.Metric, Percentile: sp.Percentile, MaxMs: ms(sp.Max.D()), MaxFailed: float64(sp.MaxFailed)}}
	s.rec = &schema.SearchResult{SLO: s.slo, Tolerance: float64(sp.Tolerance), Trials: []schema.Trial{}}
	r.clearTrials(ph.Name)

	capacity := 0.0 // the capacity the bounds are shares of (0: none)
	if ph.Capacity != "" {
		c, err := r.capacityOf(ph.Capacity)
		if err != nil {
			return nil, fmt.Errorf("its upper bound is the capacity phase %s measures: %w", ph.Capacity, err)
		}
		capacity = c
	}
	s.rec.Lower = float64(sp.Lower.Of(capacity))
	s.rec.Upper = float64(sp.Upper.Of(capacity))
	if sp.Upper.IsZero() && capacity > 0 {
		s.rec.Upper, s.rec.UpperPhase = capacity, ph.Capacity
	}
	if sp.Unloaded != "" {
		if res, err := r.finishedResult(sp.Unloaded); err == nil {
			s.rec.Unloaded, s.rec.UnloadedPhase = percentileOf(res, s.slo), sp.Unloaded
		}
	}
	if s.rec.Upper == 0 {
		res, err := s.trial(ctx, math.Inf(1), true)
		if err != nil {
			return nil, err
		}
		if stopsSearch(res) {
			return s.finish(ctx, nil, res.EndReason, "")
		}
		if res.QueryThroughput <= 0 {
			return s.finish(ctx, nil, schema.EndCompleted, "the probe at rate inf measured no capacity")
		}
		s.rec.Upper, s.rec.UpperPhase = res.QueryThroughput, schema.TrialName(ph.Name, 1)
	}

	cs := newCapacitySearch(searchSpec{Lower: s.rec.Lower, Upper: s.rec.Upper, Tolerance: float64(sp.Tolerance),
		MaxTrials: sp.MaxTrials, SLO: s.slo.MaxMs, Unloaded: s.rec.Unloaded})
	retried := false // the last trial was a rerun of a stalled one
	for {
		rate, done := cs.next()
		if done {
			return s.finish(ctx, cs, schema.EndCompleted, "")
		}
		if left := sp.MaxTime.D() - time.Since(s.began); s.expected(rate) > left {
			return s.finish(ctx, cs, schema.EndCompleted, fmt.Sprintf("time budget (max_time %s) spent", sp.MaxTime))
		}
		res, err := s.trial(ctx, rate, false)
		if err != nil {
			return nil, err
		}
		if stopsSearch(res) {
			return s.finish(ctx, cs, res.EndReason, "")
		}
		if why := s.stalled(res); why != "" && !retried {
			s.discard(len(s.rec.Trials)-1, why)
			retried = true
			continue // the same rate again
		}
		retried = false
		cs.add(s.judge(len(s.rec.Trials)-1, res))
		s.numbers = append(s.numbers, len(s.rec.Trials))
	}
}

// stalled says why a trial measured the client rather than the server
// ("" when it did not): without a concurrency cap every arrival should
// leave on time, and one that left later than the search's tolerance of
// the SLO (loadgen starved of CPU, a paused VM) moved latencies by more
// than the search can resolve.
func (s *search) stalled(res *schema.PhaseResult) string {
	lag := res.Latency[schema.MetricScheduleLag]
	limit := s.rec.Tolerance * s.slo.MaxMs
	if s.ph.MaxConcurrency > 0 || lag.Count == 0 || lag.Max <= limit {
		return ""
	}
	return fmt.Sprintf("the client fell behind its schedule (max schedule lag %s > %s, the tolerance of the SLO)", fmtLatency(lag.Max), fmtLatency(limit))
}

// discard sets trial i aside as measuring the client, not the server: it
// stays in the record and the manifest, and the rate runs again.
func (s *search) discard(i int, why string) {
	t := &s.rec.Trials[i]
	t.Discarded, t.Why = true, why
	s.setPhase(t.Phase, schema.StatusOK, "set aside, run again: "+why)
	s.pr.Eventf("%s: %s at %.4g q/s set aside, run again: %s", s.tag(), t.Phase, t.Rate, why)
}

// expected is how long a trial at rate is planned to take: its arrivals,
// its warmup (at the SLO's latency each) and the last query's latency.
func (s *search) expected(rate float64) time.Duration {
	slo := time.Duration(s.slo.MaxMs * float64(time.Millisecond))
	d := s.ph.Duration.D()
	if s.ph.Queries > 0 {
		d = time.Duration(float64(s.ph.Queries) / rate * float64(time.Second))
	}
	return d + time.Duration(s.ph.Warmup+1)*slo
}

// stopsSearch reports whether a trial's end stops the search: it was
// interrupted, the server exited, or the workload failed.
func stopsSearch(res *schema.PhaseResult) bool {
	switch res.EndReason {
	case schema.EndInterrupted, schema.EndServerExited, schema.EndError:
		return true
	}
	return false
}

// trial runs the next trial at rate (a probe at rate inf with the search's
// probe_concurrency), records it in the manifest and the search record,
// and returns its result; an error means it could not run or be written.
func (s *search) trial(ctx context.Context, rate float64, probe bool) (*schema.PhaseResult, error) {
	n := len(s.rec.Trials) + 1
	tph, stop := trialPhase(s.ph, n, rate, probe)
	name := tph.Name
	s.addTrial(name)
	if n > 1 {
		s.waitIdle(ctx)
	}
	res, err := s.measurePhase(ctx, tph, s.wl, stop, nil)
	t := schema.Trial{N: n, Phase: name, File: schema.TrialFile(s.c.Name, s.ph.Name, n), Rate: rate, Probe: probe}
	if probe {
		t.Rate = 0
	}
	if err != nil {
		// Nothing ran, or its files could not be written: the search
		// fails with the trial.
		s.setPhase(name, schema.StatusFailed, oneLine(err))
		return nil, fmt.Errorf("trial %d: %w", n, err)
	}
	s.results[n] = res
	t.EndReason, t.Duration, t.Throughput = res.EndReason, res.Duration, res.QueryThroughput
	t.Queries = res.QueriesCompleted + res.QueriesFailed
	if t.Queries > 0 {
		t.FailedShare = float64(res.QueriesFailed) / float64(t.Queries)
	}
	t.Value = percentileOf(res, s.slo)
	s.rec.Trials = append(s.rec.Trials, t)
	switch {
	case res.EndReason == schema.EndInterrupted:
		s.setPhase(name, schema.StatusInterrupted, "interrupted: partial results")
	case stopsSearch(res):
		s.setPhase(name, schema.StatusFailed, "the trial ended: "+res.EndReason)
	case probe:
		s.setPhase(name, schema.StatusOK, fmt.Sprintf("probe: capacity %.4g q/s", res.QueryThroughput))
		s.pr.Eventf("%s: %s probe at rate inf (max_concurrency %d): capacity %.4g q/s", s.tag(), name, tph.MaxConcurrency, res.QueryThroughput)
	}
	return res, nil
}

// judge decides trial i against the SLO, records the verdict in the
// manifest and the progress, and returns it as the search's outcome.
func (s *search) judge(i int, res *schema.PhaseResult) trialOutcome {
	o, verdict := s.decide(i, res)
	t := s.rec.Trials[i]
	s.setPhase(t.Phase, schema.StatusOK, verdict)
	s.pr.Eventf("%s: %s at %.4g q/s: %s", s.tag(), t.Phase, t.Rate, clip(verdict, 160))
	return o
}

// decide judges trial i against the SLO: it fills the trial's verdict
// and returns the search's outcome with the verdict in words.
func (s *search) decide(i int, res *schema.PhaseResult) (trialOutcome, string) {
	t := &s.rec.Trials[i]
	o := trialOutcome{Rate: t.Rate, Value: t.Value}
	switch {
	case res.Saturation != nil:
		o.Censored = true
		t.Why = "saturated: " + res.Saturation.Evidence
	case t.Queries == 0 || res.QueriesCompleted == 0:
		o.Censored = true
		t.Why = "no query completed"
	case t.Value > s.slo.MaxMs:
		t.Why = fmt.Sprintf("p%g %s %s > %s", s.slo.Percentile, s.slo.Metric, fmtLatency(t.Value), fmtLatency(s.slo.MaxMs))
	case t.FailedShare > s.slo.MaxFailed:
		o.OnErrors = true
		t.Why = fmt.Sprintf("%s of queries failed > %s", pct(t.FailedShare), pct(s.slo.MaxFailed))
	default:
		o.Pass = true
	}
	t.Pass, t.Censored = o.Pass, o.Censored
	verdict := fmt.Sprintf("SLO held: p%g %s %s ≤ %s", s.slo.Percentile, s.slo.Metric, fmtLatency(t.Value), fmtLatency(s.slo.MaxMs))
	if !o.Pass {
		verdict = "SLO missed: " + t.Why
	}
	return o, verdict
}

// finish writes the search phase's result: the measurements of the trial
// at the answer with the search record. cs is nil when no search trial
// ran; why, when set, says why the search stopped early.
func (s *search) finish(ctx context.Context, cs *capacitySearch, end, why string) (*schema.PhaseResult, error) {
	rec := s.rec
	rec.Seconds = time.Since(s.began).Seconds()
	var a searchAnswer
	if cs != nil {
		a = cs.answer()
	} else {
		a = searchAnswer{Pass: -1, Fail: -1, Reason: "no search trial ran"}
	}
	rec.CapacityAtSLO, rec.Converged, rec.Reason = a.Capacity, a.Converged, a.Reason
	switch {
	case why != "":
		rec.Converged, rec.Reason = false, why+"; "+a.Reason
	case end != schema.EndCompleted:
		rec.Converged, rec.Reason = false, "the search was cut short ("+end+"); "+a.Reason
	}
	if a.Pass >= 0 {
		rec.Pass = s.numbers[a.Pass]
	}
	if a.Fail >= 0 {
		rec.Fail = s.numbers[a.Fail]
	}
	res := &schema.PhaseResult{SchemaVersion: schema.PhaseSchemaVersion, Simulated: s.o.Simulate, Config: s.c.Name,
		ModelID: s.c.Server.ServedModel, Arrival: s.ph.Arrival, Seed: s.ph.Seed, StartedAt: s.began, Errors: map[string]schema.ErrorCount{}}
	if base := s.results[rec.Pass]; base != nil {
		cp := *base
		res = &cp
		res.Saturation = nil
	}
	res.Phase, res.EndReason, res.EndedAt = s.ph.Name, end, time.Now()
	capacity := rec.CapacityAtSLO
	res.CapacityAtSLO, res.Search = &capacity, rec
	if !rec.Converged {
		res.Warnings = append(res.Warnings, "the search did not converge: "+rec.Reason)
	}
	dir := s.sweeper.dir
	if err := s.writeJSON(filepath.Join(dir, schema.PhaseFile(s.c.Name, s.ph.Name)), res); err != nil {
		return res, err
	}
	if err := s.copyTrialFiles(rec.Pass); err != nil {
		return res, err
	}
	capacityAt := capacity
	s.m.config(s.c.Name, func(cs *schema.ConfigStatus) {
		if p := cs.Phase(s.ph.Name); p != nil {
			p.CapacityAtSLO = &capacityAt
		}
	})
	return res, nil
}

// trialSiblings are the files beside a phase result that the search phase
// takes from its passing trial, so that its numbers and its files agree.
var trialSiblings = []string{".hlog", ".scores.jsonl", ".requests.jsonl"}

// copyTrialFiles gives the search phase the .hlog, scores and request log
// of its passing trial n (none when n is 0: an earlier attempt's are
// removed).
func (s *search) copyTrialFiles(n int) error {
	base := filepath.Join(s.dir, s.ph.Name)
	for _, ext := range trialSiblings {
		if n == 0 {
			_ = os.Remove(base + ext)
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, schema.TrialName(s.ph.Name, n)+ext))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			_ = os.Remove(base + ext)
			continue
		case err == nil:
			err = s.writeFile(base+ext, b)
		}
		if err != nil {
			return fmt.Errorf("copy the %s of trial %d: %w", ext, n, err)
		}
	}
	return nil
}

// searchLine is the event line of a finished search.
func searchLine(name string, res *schema.PhaseResult) string {
	rec := res.Search
	out := fmt.Sprintf("%s: capacity at SLO %.4g q/s (%s)", name, rec.CapacityAtSLO, rec.SLO)
	if rec.Pass > 0 && rec.Fail > 0 {
		out += fmt.Sprintf(", between trial %d at %.4g and trial %d at %.4g q/s",
			rec.Pass, rec.Trials[rec.Pass-1].Rate, rec.Fail, rec.Trials[rec.Fail-1].Rate)
	}
	out += fmt.Sprintf(", %d trials in %s", len(rec.Trials), FormatDuration(time.Duration(rec.Seconds*float64(time.Second))))
	if !rec.Converged {
		out += "; NOT CONVERGED: " + rec.Reason
	}
	return out
}

// percentileOf is a result's value of the SLO's metric at its percentile
// (ms; 0 when nothing was measured).
func percentileOf(res *schema.PhaseResult, slo schema.SearchSLO) float64 {
	st, ok := res.Latency[slo.Metric]
	if !ok || st.Count == 0 {
		return 0
	}
	switch slo.Percentile {
	case 50:
		return st.P50
	case 90:
		return st.P90
	case 95:
		return st.P95
	case 99.9:
		return st.P999
	}
	return st.P99
}

// addTrialStatus lists a trial in the manifest, after its search phase and the
// trials before it.
func (r *configRun) addTrialStatus(search, name, file string) {
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		at := len(cs.Phases)
		for i, p := range cs.Phases {
			if p.Name == search {
				at = i + 1
				for at < len(cs.Phases) && cs.Phases[at].Search == search {
					at++
				}
				break
			}
		}
		ps := schema.PhaseStatus{Name: name, Status: schema.StatusRunning, File: file, Search: search}
		cs.Phases = append(cs.Phases[:at], append([]schema.PhaseStatus{ps}, cs.Phases[at:]...)...)
	})
}

func (s *search) addTrial(name string) {
	s.addTrialStatus(s.ph.Name, name, schema.PhaseFile(s.c.Name, name))
}

// clearTrials removes an earlier attempt's trials of a search: their
// manifest entries and files.
func (r *configRun) clearTrials(search string) {
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		kept := cs.Phases[:0]
		for _, p := range cs.Phases {
			if p.Search != search {
				kept = append(kept, p)
			}
		}
		cs.Phases = kept
	})
	old, _ := filepath.Glob(filepath.Join(r.dir, search+".trial-*"))
	for _, f := range old {
		_ = os.Remove(f)
	}
}

// waitIdle waits, up to idleWait, until the server holds no request (as
// its /metrics says); a server without /metrics is not waited for.
func (r *configRun) waitIdle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, idleWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		snap, err := server.Scrape(ctx, r.aux, r.proc.BaseURL())
		if err != nil {
			return
		}
		if n, ok := snap.InSystem(); !ok || n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// trialPhase is trial n of search phase ph, at rate (a probe at rate inf
// with the search's probe_concurrency), with its saturation stop: the
// exact rule against the search's SLO, when the phase stops saturated
// trials.
func trialPhase(ph profiles.Phase, n int, rate float64, probe bool) (profiles.Phase, *engine.SaturationStop) {
	sp := ph.Search
	tph := ph
	tph.Name, tph.Search, tph.Capacity = schema.TrialName(ph.Name, n), nil, ""
	tph.Rate = profiles.QPS(rate)
	if probe {
		tph.Arrival, tph.Rate, tph.MaxConcurrency = profiles.ArrivalInf, profiles.RateValue{QPS: profiles.InfRate}, sp.ProbeConcurrency
		return tph, nil
	}
	if !ph.SaturationStop {
		return tph, nil
	}
	stop := &engine.SaturationStop{Percentile: sp.Percentile, MaxFailed: float64(sp.MaxFailed), Exact: true}
	switch {
	case sp.Metric == schema.MetricQueryLatency:
		stop.Latency = sp.Max.D()
	case ph.SLO != nil:
		stop.Latency = ph.SLO.QueryLatency.D()
	}
	return tph, stop
}
