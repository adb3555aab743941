package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"loadgen/loadgen"
	"loadgen/loadgen/report"
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
func (r *configRun) runPhase(ctx context.Context, ph profiles.Phase, wl *builtWorkload) (*loadgen.PhaseResult, error) {
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

	before, scrapeErr := server.Scrape(ctx, r.client, base)
	sampler := server.StartSampler(ctx, r.client, base, MetricsInterval)
	opts := loadgen.Options{
		BaseURL:      base,
		APIKey:       r.c.Server.APIKey,
		Model:        r.c.Server.ServedModel,
		Client:       r.client,
		Scorer:       wl.scorer,
		Hlog:         files.hlog,
		Progress:     r.phaseProgress(ph.Name),
		ServerExited: r.proc.Exited(),
		Simulated:    r.o.Simulate,
		Config:       r.c.Name,
		Drain:        r.o.Drain,
		Rank:         rankQuality,
		AfterWarmup: func(ctx context.Context) error {
			r.resetPrefixCache(ctx)
			return nil
		},
	}
	if files.requests != nil {
		opts.RequestsLog = files.requests
	}
	if files.scores != nil {
		opts.OnQuery = scoresWriter(files.scores, wl.wl.TopN, r.o.Simulate)
	}
	res, runErr := loadgen.Run(ctx, lph, src, opts)
	running, waiting, kv := sampler.Stop()
	if res == nil {
		return nil, runErr
	}
	if scrapeErr == nil {
		if after, err := server.Scrape(context.WithoutCancel(ctx), r.client, base); err == nil {
			res.ServerMetrics = after.Since(before)
		}
	}
	if res.ServerMetrics != nil {
		res.ServerMetrics.Running, res.ServerMetrics.Waiting, res.ServerMetrics.KVCache = running, waiting, kv
	}
	res.PromptMethod = wl.method()
	if n := wl.datasetQueries(); n > 0 {
		res.DatasetCycles = repeats(res.QueriesCompleted+res.QueriesFailed, n)
	}
	res.Warnings = append(res.Warnings, wl.warnings()...)
	if err := files.commit(); err != nil {
		return res, err
	}
	if err := report.WriteJSONAtomic(filepath.Join(r.sweeper.dir, report.PhaseFile(r.c.Name, ph.Name)), res); err != nil {
		return res, err
	}
	return res, runErr
}

// toEnginePhase converts a profile phase to the engine's.
func toEnginePhase(ph profiles.Phase, wl *builtWorkload) (loadgen.Phase, error) {
	lph := loadgen.Phase{
		Name:           ph.Name,
		Arrival:        ph.Arrival,
		Rate:           loadgen.Rate(ph.Rate),
		Burstiness:     ph.Burstiness,
		MaxConcurrency: ph.MaxConcurrency,
		Queries:        ph.Queries,
		Duration:       ph.Duration.D(),
		Warmup:         ph.Warmup,
		Seed:           ph.Seed,
		RequestTimeout: ph.RequestTimeout.D(),
	}
	if ph.Ramp != nil {
		lph.Ramp = &loadgen.Ramp{Strategy: ph.Ramp.Strategy, From: ph.Ramp.From, To: ph.Ramp.To}
	}
	if ph.SLO != nil {
		lph.SLO = &loadgen.SLO{
			TTFTMs:         ms(ph.SLO.TTFT.D()),
			E2ELMs:         ms(ph.SLO.E2EL.D()),
			QueryLatencyMs: ms(ph.SLO.QueryLatency.D()),
		}
	}
	if ph.OnePass() {
		n, err := wl.onePassQueries()
		if err != nil {
			return lph, fmt.Errorf("phase %s: %w", ph.Name, err)
		}
		lph.Queries = n
	}
	return lph, lph.Validate()
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
// records in the manifest whether the server allowed it.
func (r *configRun) resetPrefixCache(ctx context.Context) {
	supported, err := server.ResetPrefixCache(ctx, r.proc.BaseURL())
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		switch {
		case err != nil || !supported:
			cs.PrefixCacheReset = report.ResetUnsupported
		case cs.PrefixCacheReset != report.ResetUnsupported:
			cs.PrefixCacheReset = report.ResetOK
		}
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rankQuality scores one query's ranking with workload's NDCG@topN and MRR.
func rankQuality(scores []float64, relevant []int, topN int) (ndcg, mrr float64) {
	ranked := workload.Rank(scores, topN)
	return workload.NDCG(ranked, relevant, topN), workload.MRR(ranked, relevant)
}

// scoresWriter writes every completed query's scores and ranks to
// scores.jsonl (a failed query has unscored documents: it is left out).
func scoresWriter(w io.Writer, topN int, simulated bool) func(loadgen.QueryOutcome) {
	sw := workload.NewScoresWriter(w)
	sw.Simulated = simulated
	return func(q loadgen.QueryOutcome) {
		if q.Failed || len(q.Scores) == 0 {
			return
		}
		_ = sw.Write(workload.ScoreRecords(q.Item.Query, q.Item.Cycle, q.Scores, topN))
	}
}

// phaseFiles are a phase's streamed outputs, written to temporary files and
// renamed into place only when the phase has produced its result.
type phaseFiles struct {
	hlog, requests, scores *os.File
	final                  map[*os.File]string
}

func openPhaseFiles(dir, phase string, requests, scores bool) (*phaseFiles, error) {
	f := &phaseFiles{final: map[*os.File]string{}}
	open := func(name string) (*os.File, error) {
		tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		f.final[tmp] = filepath.Join(dir, name)
		return tmp, nil
	}
	var err error
	if f.hlog, err = open(phase + ".hlog"); err != nil {
		return nil, err
	}
	if requests {
		if f.requests, err = open(phase + ".requests.jsonl"); err != nil {
			f.abort()
			return nil, err
		}
	}
	if scores {
		if f.scores, err = open(phase + ".scores.jsonl"); err != nil {
			f.abort()
			return nil, err
		}
	}
	return f, nil
}

// commit syncs, closes and renames every file into place.
func (f *phaseFiles) commit() error {
	for tmp, final := range f.final {
		err := tmp.Sync()
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), final)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", final, err)
		}
		delete(f.final, tmp)
	}
	return nil
}

// abort removes whatever was not committed.
func (f *phaseFiles) abort() {
	for tmp := range f.final {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	f.final = map[*os.File]string{}
}
