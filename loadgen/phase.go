package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"loadgen/loadgen/engine"
	"loadgen/loadgen/merge"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
	"loadgen/workload"
)

// MetricsInterval is how often server gauges are sampled during a phase.
const MetricsInterval = time.Second

// runPhase runs one load phase of the profile against the ready server
// and writes <phase>.json and <phase>.hlog (and the optional request and
// score logs): a search phase runs its trials (runSearch), a phase with a
// share of capacity first learns the capacity. It returns the result even
// when the phase was interrupted or the server died (partial results are
// still results).
func (r *configRun) runPhase(ctx context.Context, ph profiles.Phase, wl *builtWorkload) (*schema.PhaseResult, error) {
	if ph.Search != nil {
		return r.runSearch(ctx, ph, wl)
	}
	cph, annotate, err := r.concrete(ph)
	if err != nil {
		return nil, err
	}
	return r.measurePhase(ctx, cph, wl, phaseStop(ph), annotate)
}

// phaseStop is the saturation stop of a phase with saturation_stop (nil
// without): the growth rule, with latency judged against the phase's
// query-latency SLO when it has one. (A search's trials have their own,
// trialPhase.)
func phaseStop(ph profiles.Phase) *engine.SaturationStop {
	if !ph.SaturationStop {
		return nil
	}
	stop := &engine.SaturationStop{}
	if ph.SLO != nil {
		stop.Latency = ph.SLO.QueryLatency.D()
	}
	return stop
}

// measurePhase runs a phase whose rates are in queries/s and writes its files
// under its name; stop, when set, is its saturation stop, and annotate
// adds to the result before it is written. A phase split across clients
// in this process runs every client's share at once and writes their
// merged result.
func (r *configRun) measurePhase(ctx context.Context, ph profiles.Phase, wl *builtWorkload, stop *engine.SaturationStop, annotate func(*schema.PhaseResult)) (*schema.PhaseResult, error) {
	parts := r.clientParts(ph)
	src, err := wl.source(ph)
	if err != nil {
		return nil, err
	}
	files := newPhaseFiles(r.dir)
	defer files.abort()
	runs, err := r.phaseRuns(ph, parts, src, wl, files, stop)
	if err != nil {
		return nil, err
	}
	base := r.proc.BaseURL()

	// Reset the prefix cache so that one phase does not warm the next, and
	// again after the warmup queries so that they do not warm the measured
	// part. The server's own metrics cover the measured part only: the
	// "before" scrape and the gauge sampler start once the warmup is over
	// (every client's, when the phase is split).
	r.resetPrefixCache(ctx)
	beside := r.besides.watch(r.c.Name)
	var m serverMeasure
	g := newGate(len(runs), func() {
		if ph.Warmup > 0 {
			r.resetPrefixCache(ctx)
		}
		m.start(ctx, r.aux, base)
	})
	var wg sync.WaitGroup
	for i, cr := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mem := g.member()
			defer mem.leave()
			opts := engine.Options{
				BaseURL:      base,
				APIKey:       r.c.Server.APIKey,
				Model:        r.c.Server.ServedModel,
				Scorer:       wl.scorer,
				Hlog:         cr.hlog,
				ServerExited: r.proc.Exited(),
				Simulated:    r.o.Simulate,
				Config:       r.c.Name,
				Drain:        r.o.Drain,
				AfterWarmup:  func(ctx context.Context) error { return mem.arrive(ctx) },
			}
			if i == 0 {
				opts.Progress = r.phaseProgress(ph.Name + clientsNote(parts))
			}
			if cr.requests != nil {
				opts.RequestsLog = cr.requests
			}
			if cr.scores != nil {
				opts.OnQuery = scoresWriter(cr.scores, wl.wl.TopN, r.o.Simulate, &cr.scoresErr)
			}
			if cr.lph.Warmup == 0 {
				_ = mem.arrive(ctx) // the engine runs (and stops) on its own if ctx ended
			}
			cr.res, cr.err = engine.Run(ctx, cr.lph, cr.src, opts)
		}()
	}
	wg.Wait()
	metrics := m.stop(ctx, r.aux, base)
	concurrent := r.besides.end(beside)
	res, runErr := r.phaseResult(ph, runs, files)
	if res == nil {
		return nil, runErr
	}
	res.ServerMetrics = metrics
	res.NeuronCores, res.ConcurrentWith = string(r.cores), concurrent
	res.PromptMethod = wl.method()
	if n := wl.datasetQueries(); n > 0 {
		res.DatasetCycles = repeats(res.QueriesCompleted+res.QueriesFailed, n)
	}
	res.Warnings = append(res.Warnings, wl.warnings()...)
	if annotate != nil {
		annotate(res)
	}
	// The phase result first: it is small and it is what matters; then the
	// streamed logs.
	if err := r.writeJSON(filepath.Join(r.sweeper.dir, schema.PhaseFile(r.c.Name, ph.Name)), res); err != nil {
		return res, err
	}
	for _, cr := range runs {
		if cr.scoresErr != nil {
			return res, fmt.Errorf("write %s.scores.jsonl: %w", ph.Name, cr.scoresErr)
		}
	}
	if err := files.commit(); err != nil {
		r.writes.note(filepath.Join(r.dir, ph.Name+".*"), err)
		return res, err
	}
	return res, runErr
}

// clientRun is one engine run of a phase: the whole phase, or one
// client's share, with its source and its streamed outputs.
type clientRun struct {
	part                   *schema.Part // nil: the whole phase
	lph                    engine.Phase
	src                    workload.Source
	hlog, requests, scores *os.File
	scoresErr              error
	res                    *schema.PhaseResult
	err                    error
}

// phaseRuns prepares the engine runs of a phase: one for the whole phase
// or for this process's one share (writing the phase's own files), or one
// per client of a phase split here (each writing scratch files the merge
// reads, and its own requests log <phase>.client-<i>.requests.jsonl).
// stop is the saturation stop of the whole phase (the resolver keeps it
// from phases split across clients).
func (r *configRun) phaseRuns(ph profiles.Phase, parts []schema.Part, src workload.Source, wl *builtWorkload, files *phaseFiles, stop *engine.SaturationStop) ([]*clientRun, error) {
	if len(parts) == 0 {
		lph, err := toEnginePhase(ph, wl, stop)
		if err != nil {
			return nil, err
		}
		cr := &clientRun{lph: lph, src: src}
		return []*clientRun{cr}, files.open(cr, ph.Name, "", r.o.RequestsLog, wl.scorer != nil)
	}
	keep := make([]int, len(parts))
	for i, p := range parts {
		keep[i] = p.Index
	}
	dealer := workload.Deal(src, parts[0].Count, keep...)
	var runs []*clientRun
	for _, p := range parts {
		share, err := profiles.SplitPhase(ph, p)
		if err != nil {
			return nil, err
		}
		lph, err := toEnginePhase(share, wl, nil)
		if err != nil {
			return nil, err
		}
		cr := &clientRun{part: &p, lph: lph, src: dealer.Client(p.Index)}
		suffix := ""
		if len(parts) > 1 {
			suffix = fmt.Sprintf(".client-%d", p.Index)
		}
		if err := files.open(cr, ph.Name, suffix, r.o.RequestsLog, wl.scorer != nil); err != nil {
			return nil, err
		}
		runs = append(runs, cr)
	}
	return runs, nil
}

// phaseResult is the result of a phase's runs: the one run's (a share
// says which it is), or the clients' shares merged exactly, with the
// merged .hlog and scores written.
func (r *configRun) phaseResult(ph profiles.Phase, runs []*clientRun, files *phaseFiles) (*schema.PhaseResult, error) {
	var errs []error
	for _, cr := range runs {
		if cr.err != nil {
			errs = append(errs, cr.err)
		}
		if cr.res == nil {
			return nil, errors.Join(errs...)
		}
		if cr.part != nil {
			cr.res.Client = shareOf(ph, *cr.part)
		}
	}
	runErr := errors.Join(errs...)
	if len(runs) == 1 {
		return runs[0].res, runErr
	}
	shares := make([]merge.Share, len(runs))
	for i, cr := range runs {
		ivs, err := schema.ReadHlogFileIntervals(cr.hlog.Name())
		if err != nil {
			return nil, fmt.Errorf("phase %s: client %s: %w", ph.Name, cr.part, err)
		}
		shares[i] = merge.Share{Result: cr.res, Intervals: ivs}
	}
	merged, err := merge.Shares(shares, false)
	if err != nil {
		return nil, fmt.Errorf("phase %s: %w", ph.Name, err)
	}
	if err := files.mergeOutputs(ph.Name, runs, merged); err != nil {
		return nil, err
	}
	return merged.Result, runErr
}

// clientsNote names a split phase's clients in the progress line.
func clientsNote(parts []schema.Part) string {
	switch {
	case len(parts) > 1:
		return fmt.Sprintf(" (client 0 of %d)", len(parts))
	case len(parts) == 1:
		return fmt.Sprintf(" (client %s)", parts[0])
	}
	return ""
}

// toEnginePhase converts a profile phase whose rates are in queries/s to
// the engine's and checks the engine's invariants (which every phase
// pre-flight passed holds, once its shares of capacity are rates), with
// its saturation stop (nil: none); a one-pass phase gets the dataset's
// query count.
func toEnginePhase(ph profiles.Phase, wl *builtWorkload, stop *engine.SaturationStop) (engine.Phase, error) {
	n := 0
	if ph.OnePass() {
		var err error
		if n, err = wl.onePassQueries(); err != nil {
			return engine.Phase{}, fmt.Errorf("phase %s: %w", ph.Name, err)
		}
	}
	lph := enginePhase(ph, n)
	lph.Saturation = stop
	return lph, lph.Validate()
}

// enginePhase converts a profile phase whose rates are in queries/s to the
// engine's; onePass is the query count of a phase that makes one pass over
// the dataset.
func enginePhase(ph profiles.Phase, onePass int) engine.Phase {
	lph := engine.Phase{
		Name:           ph.Name,
		Arrival:        ph.Arrival,
		Rate:           ph.Rate.QPS,
		Burstiness:     ph.Burstiness,
		MaxConcurrency: ph.MaxConcurrency,
		Queries:        ph.Queries,
		Duration:       ph.Duration.D(),
		Warmup:         ph.Warmup,
		Seed:           ph.Seed,
		RequestTimeout: ph.RequestTimeout.D(),
	}
	if ph.Ramp != nil {
		lph.Ramp = &schema.Ramp{Strategy: ph.Ramp.Strategy, From: float64(ph.Ramp.From.QPS), To: float64(ph.Ramp.To.QPS)}
	}
	if ph.SLO != nil {
		lph.SLO = &schema.SLO{
			TTFTMs:         ms(ph.SLO.TTFT.D()),
			E2ELMs:         ms(ph.SLO.E2EL.D()),
			QueryLatencyMs: ms(ph.SLO.QueryLatency.D()),
		}
	}
	if ph.OnePass() {
		lph.Queries = onePass
	}
	return lph
}

// repeats is how many times q measured queries wrapped around a dataset of
// n queries: the measured part repeats prompts only beyond one pass (the
// warmup's prompts were flushed by the prefix-cache reset after it).
func repeats(q, n int) int {
	if q <= 0 || n <= 0 {
		return 0
	}
	return (q - 1) / n
}

// resetPrefixCache resets the server's prefix cache (vLLM dev mode) and
// records in the manifest whether it worked: "ok" while every reset
// worked, "unsupported" once the server refused one (no dev mode), "failed"
// once one failed otherwise (an error, a server going away). A refusal is
// the more telling of the two and is kept over a failure.
func (r *configRun) resetPrefixCache(ctx context.Context) {
	supported, err := server.ResetPrefixCache(ctx, r.proc.BaseURL())
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		switch {
		case err != nil:
			if cs.PrefixCacheReset != schema.ResetUnsupported {
				cs.PrefixCacheReset = schema.ResetFailed
			}
		case !supported:
			cs.PrefixCacheReset = schema.ResetUnsupported
		case cs.PrefixCacheReset == "":
			cs.PrefixCacheReset = schema.ResetOK
		}
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// scoresWriter writes every completed query's scores and ranks to
// scores.jsonl (a failed query has unscored documents: it is left out).
// The first write error is kept in *werr (the phase's scores are then
// incomplete) and no more is written.
func scoresWriter(w io.Writer, topN int, simulated bool, werr *error) func(engine.QueryOutcome) {
	sw := workload.NewScoresWriter(w)
	sw.Simulated = simulated
	return func(q engine.QueryOutcome) {
		if q.Failed || len(q.Scores) == 0 || *werr != nil || slices.ContainsFunc(q.Scores, math.IsNaN) {
			return // nothing to write, or nothing more: a NaN is an unscored document
		}
		*werr = sw.Write(workload.ScoreRecords(q.Item.Query, q.Item.Cycle, q.Scores, topN))
	}
}

// MaxFailedFraction is the share of failed requests above which a phase
// counts as failed: its latencies would describe the requests that
// survived, not the server.
const MaxFailedFraction = 0.01

// phaseFailure says why a phase that ran to its end still failed ("" when
// it did not): it ended on an error, no query completed, or more than
// MaxFailedFraction of its requests failed.
func phaseFailure(res *schema.PhaseResult) string {
	total := res.Completed + res.Failed
	switch {
	case res.EndReason == schema.EndError:
		why := "the phase ended on an error"
		if n := len(res.Warnings); n > 0 {
			why += ": " + res.Warnings[n-1]
		}
		return why
	case res.QueriesCompleted == 0:
		return fmt.Sprintf("no query completed (%d requests failed%s)", res.Failed, topError(res))
	case total > 0 && float64(res.Failed) > MaxFailedFraction*float64(total):
		return fmt.Sprintf("%d of %d requests failed%s", res.Failed, total, topError(res))
	}
	return ""
}

// topError names the most frequent error kind with its sample message.
func topError(res *schema.PhaseResult) string {
	kind, best := "", 0
	for k, e := range res.Errors {
		if e.Count > best || e.Count == best && k < kind {
			kind, best = k, e.Count
		}
	}
	if kind == "" {
		return ""
	}
	return fmt.Sprintf("; mostly %s: %s", kind, res.Errors[kind].Sample)
}
