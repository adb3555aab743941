package loadgen

import (
	"loadgen/loadgen/engine"

	"loadgen/loadgen/schema"

	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"loadgen/profiles"
	"loadgen/server"
	"loadgen/workload"
)

// MetricsInterval is how often server gauges are sampled during a phase.
const MetricsInterval = time.Second

// runPhase runs one load phase against the ready server and writes
// <phase>.json and <phase>.hlog (and the optional request and score logs).
// It returns the result even when the phase was interrupted or the server
// died (partial results are still results).
func (r *configRun) runPhase(ctx context.Context, ph profiles.Phase, wl *builtWorkload) (*schema.PhaseResult, error) {
	lph, err := toEnginePhase(ph, wl)
	if err != nil {
		return nil, err
	}
	src, err := wl.source(ph)
	if err != nil {
		return nil, err
	}
	base := r.proc.BaseURL()

	// Reset the prefix cache so that one phase does not warm the next, and
	// again after the warmup queries so that they do not warm the measured
	// part.
	r.resetPrefixCache(ctx)

	files, err := openPhaseFiles(r.dir, ph.Name, r.o.RequestsLog, wl.scorer != nil)
	if err != nil {
		return nil, err
	}
	defer files.abort()

	// The server's own metrics cover the measured part only: the "before"
	// scrape and the gauge sampler start once the warmup is over (and the
	// prefix cache has been reset again).
	var m serverMeasure
	opts := engine.Options{
		BaseURL:      base,
		APIKey:       r.c.Server.APIKey,
		Model:        r.c.Server.ServedModel,
		Scorer:       wl.scorer,
		Hlog:         files.hlog,
		Progress:     r.phaseProgress(ph.Name),
		ServerExited: r.proc.Exited(),
		Simulated:    r.o.Simulate,
		Config:       r.c.Name,
		Drain:        r.o.Drain,
		AfterWarmup: func(ctx context.Context) error {
			r.resetPrefixCache(ctx)
			m.start(ctx, r.aux, base)
			return nil
		},
	}
	if lph.Warmup == 0 {
		m.start(ctx, r.aux, base)
	}
	if files.requests != nil {
		opts.RequestsLog = files.requests
	}
	if files.scores != nil {
		opts.OnQuery = scoresWriter(files.scores, wl.wl.TopN, r.o.Simulate)
	}
	res, runErr := engine.Run(ctx, lph, src, opts)
	if res == nil {
		m.stop(ctx, r.aux, base)
		return nil, runErr
	}
	res.ServerMetrics = m.stop(ctx, r.aux, base)
	res.PromptMethod = wl.method()
	if n := wl.datasetQueries(); n > 0 {
		res.DatasetCycles = repeats(res.QueriesCompleted+res.QueriesFailed, n)
	}
	res.Warnings = append(res.Warnings, wl.warnings()...)
	// The phase result first: it is small and it is what matters; then the
	// streamed logs.
	if err := schema.WriteJSONAtomic(filepath.Join(r.sweeper.dir, schema.PhaseFile(r.c.Name, ph.Name)), res); err != nil {
		return res, err
	}
	if err := files.commit(); err != nil {
		return res, err
	}
	return res, runErr
}

// toEnginePhase converts a profile phase to the engine's and checks the
// engine's invariants (which every phase pre-flight passed holds); a
// one-pass phase gets the dataset's query count.
func toEnginePhase(ph profiles.Phase, wl *builtWorkload) (engine.Phase, error) {
	n := 0
	if ph.OnePass() {
		var err error
		if n, err = wl.onePassQueries(); err != nil {
			return engine.Phase{}, fmt.Errorf("phase %s: %w", ph.Name, err)
		}
	}
	lph := enginePhase(ph, n)
	return lph, lph.Validate()
}

// enginePhase converts a profile phase to the engine's; onePass is the
// query count of a phase that makes one pass over the dataset.
func enginePhase(ph profiles.Phase, onePass int) engine.Phase {
	lph := engine.Phase{
		Name:           ph.Name,
		Arrival:        ph.Arrival,
		Rate:           ph.Rate,
		Burstiness:     ph.Burstiness,
		MaxConcurrency: ph.MaxConcurrency,
		Queries:        ph.Queries,
		Duration:       ph.Duration.D(),
		Warmup:         ph.Warmup,
		Seed:           ph.Seed,
		RequestTimeout: ph.RequestTimeout.D(),
	}
	if ph.Ramp != nil {
		lph.Ramp = &schema.Ramp{Strategy: ph.Ramp.Strategy, From: ph.Ramp.From, To: ph.Ramp.To}
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
func scoresWriter(w io.Writer, topN int, simulated bool) func(engine.QueryOutcome) {
	sw := workload.NewScoresWriter(w)
	sw.Simulated = simulated
	return func(q engine.QueryOutcome) {
		if q.Failed || len(q.Scores) == 0 {
			return
		}
		_ = sw.Write(workload.ScoreRecords(q.Item.Query, q.Item.Cycle, q.Scores, topN))
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
