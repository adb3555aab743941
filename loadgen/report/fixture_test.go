package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

// TestMain regenerates the synthetic results directories under -update
// before any golden test reads them.
func TestMain(m *testing.M) {
	flag.Parse()
	if testkit.Updating() {
		for dir, build := range map[string]func() fixture{"testdata/sweep-sim": simFixture, "testdata/sweep-partial": partialFixture} {
			if err := build().write(dir); err != nil {
				fmt.Fprintln(os.Stderr, "fixture:", err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// fixture is a synthetic results directory: a manifest and, per config, a
// startup record and phase results generated from a small queueing model
// (one query served at a time, lognormal service times), so that the
// numbers in JSON, .hlog and the report agree with each other.
type fixture struct {
	manifest schema.Manifest
	configs  []fxConfig
}

type fxConfig struct {
	status  schema.ConfigStatus
	startup *schema.Startup
	service float64 // mean seconds per query
	phases  []fxPhase
}

type fxPhase struct {
	name    string
	arrival string
	rate    schema.Rate
	queries int
	maxConc *int
	hlog    bool
	// done is false for phases without a result file.
	done        bool
	failed      int // failed requests
	missingYes  int
	lateArrival bool
	// upTo > 0 ends the phase after upTo of its queries, with end reason
	// end (an interrupted or crashed phase that still wrote its result).
	upTo int
	end  string
	// share > 0 makes the rate that share of the stress phase's capacity.
	share float64
	// search lists the rates of a search's trials as shares of the stress
	// phase's capacity; the phase is a search for the capacity at an SLO
	// of 1.3 s (none, when the config is slower than that unloaded).
	search []float64
	// cut stops the phase as saturated after half its queries.
	cut bool
}

var fxStart = time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)

func fxSettings(pc, bk bool) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"tensor_parallel_size":2,"max_model_len":2048,"block_size":32,"max_num_seqs":4,`+
		`"max_num_batched_tokens":256,"pa_num_blocks":512,"enable_prefix_caching":%t,"enable_bucketing":%t}`, pc, bk))
}

func fxPhases() []fxPhase {
	eight := 8
	return []fxPhase{
		{name: "sync", arrival: "sync", queries: 10, hlog: true, done: true},
		{name: "poisson-1", arrival: "poisson", rate: 1, queries: 40, done: true},
		{name: "poisson-2", arrival: "poisson", rate: 2, queries: 40, done: true},
		{name: "stress", arrival: "inf", rate: schema.Inf, queries: 40, maxConc: &eight, hlog: true, done: true},
		{name: "slo-search", arrival: "poisson", queries: 40, hlog: true, done: true, search: []float64{0.5, 0.8, 0.65, 0.7}},
		{name: "poisson-75pct", arrival: "poisson", share: 0.75, queries: 40, done: true},
	}
}

func fxStartup(name string, hit bool, at time.Time) *schema.Startup {
	st := &schema.Startup{SchemaVersion: schema.StartupSchemaVersion, Config: name, URL: "http://127.0.0.1:8000",
		PID: 4242, Started: at, Ready: true, Version: "0.11.0 (loadgen-sim)"}
	phases := []struct {
		name string
		secs float64
	}{{"loading", 2.1}, {"compiling", 36.4}, {"loading weights", 4.6}, {"warmup", 1.3}}
	if hit {
		st.CompiledArtifacts = "hit"
		phases = append(phases[:1], phases[2:]...)
	} else {
		st.CompiledArtifacts = "miss"
	}
	t := at
	for _, p := range phases {
		st.Phases = append(st.Phases, schema.StartupPhase{Name: p.name, Started: t, Seconds: p.secs})
		st.ReadySeconds += p.secs
		t = t.Add(time.Duration(p.secs * float64(time.Second)))
	}
	st.ReadySeconds = math.Round(st.ReadySeconds*10) / 10
	return st
}

// simFixture is a simulated sweep of the offline benchmark's four configs,
// with online names that differ from the offline ones.
func simFixture() fixture {
	f := fixture{manifest: schema.Manifest{
		SchemaVersion: schema.ManifestSchemaVersion, Profile: "rerank", ProfilePath: "profiles/rerank.yaml",
		ProfileHash: "sha256:9c1d5e0f", ResolvedProfile: json.RawMessage(`{"name":"rerank"}`),
		LoadgenVersion: "v0.1.0-test",
		Host:           schema.HostInfo{Hostname: "sim-host", OS: "linux", Arch: "amd64", CPUs: 2, GoVersion: "go1.26.0", Kernel: "6.1.0"},
		Simulated:      true, Sim: &schema.SimInfo{SpeedFactor: 1, Seed: 1, Notes: "latency model calibrated to the offline inf2.xlarge table"},
		StartedAt: fxStart, EndedAt: fxStart.Add(41*time.Minute + 30*time.Second), Status: schema.SweepCompleted,
	}}
	for i, c := range []struct {
		name    string
		pc, bk  bool
		service float64
		hit     bool
	}{
		{"prefix-on_bucketing-on", true, true, 0.445, false},
		{"prefix-on_bucketing-off", true, false, 1.17, true},
		{"prefix-off_bucketing-on", false, true, 0.335, false},
		{"prefix-off_bucketing-off", false, false, 1.25, true},
	} {
		fc := fxConfig{status: schema.ConfigStatus{Name: c.name, Status: schema.StatusOK, Settings: fxSettings(c.pc, c.bk), PrefixCacheReset: schema.ResetOK},
			startup: fxStartup(c.name, c.hit, fxStart.Add(time.Duration(i)*10*time.Minute)), service: c.service, phases: fxPhases()}
		if c.name == "prefix-on_bucketing-off" {
			fc.phases[2].failed = 2
			fc.phases[2].cut = true
		}
		f.configs = append(f.configs, fc)
	}
	return f
}

// partialFixture is an interrupted real (not simulated) sweep: one config
// passed, one ran but was voided by an invalid-config finding, one failed
// at startup, one was interrupted in its rate-inf phase, one crashed in its
// sync phase and one never started.
func partialFixture() fixture {
	f := fixture{manifest: schema.Manifest{
		SchemaVersion: schema.ManifestSchemaVersion, Profile: "rerank-inf2", ProfilePath: "profiles/rerank.yaml",
		ProfileHash: "sha256:77aa01", LoadgenVersion: "v0.1.0-test",
		Host:      schema.HostInfo{Hostname: "ip-10-0-0-12", OS: "linux", Arch: "amd64", CPUs: 4, GoVersion: "go1.26.0"},
		StartedAt: fxStart, EndedAt: fxStart.Add(95 * time.Minute), Status: schema.SweepInterrupted,
	}}
	two := func(done bool) []fxPhase {
		p := fxPhases()
		p = []fxPhase{p[0], p[3]} // sync and stress, without the online-capacity phases
		p[0].hlog, p[1].hlog = false, false
		p[0].done, p[1].done = done, done
		return p
	}
	ok := fxConfig{status: schema.ConfigStatus{Name: "cache_OFF_bucketing_ON", Status: schema.StatusOK, Settings: fxSettings(false, true), PrefixCacheReset: schema.ResetOK},
		startup: fxStartup("cache_OFF_bucketing_ON", false, fxStart), service: 0.33, phases: two(true)}
	ok.phases[0].missingYes = 3
	ok.phases[1].lateArrival = true
	voided := fxConfig{status: schema.ConfigStatus{Name: "cache_ON_bucketing_ON", Status: schema.StatusFailed, FailureClass: string(schema.FailureInvalidConfig),
		Reason: "override_neuron_config was ignored: compiled artifacts of another config were reused", Settings: fxSettings(true, true),
		PrefixCacheReset: schema.ResetUnsupported},
		startup: fxStartup("cache_ON_bucketing_ON", true, fxStart.Add(20*time.Minute)), service: 0.3, phases: two(true)}
	voided.startup.Findings = []schema.LogFinding{{Class: schema.FailureInvalidConfig, Line: "WARNING override_neuron_config will be ignored",
		Message: "the plugin found compiled artifacts and ignored the overrides; use a fresh NEURON_COMPILED_ARTIFACTS"}}
	kshape := fxConfig{status: schema.ConfigStatus{Name: "cache_ON_bucketing_OFF", Status: schema.StatusFailed, FailureClass: string(schema.FailureKShape),
		Reason: "'BlockKVCacheManager' object has no attribute 'k_shape' (is_block_kv_layout without prefix caching)", Settings: fxSettings(true, false)},
		startup: &schema.Startup{SchemaVersion: schema.StartupSchemaVersion, Config: "cache_ON_bucketing_OFF", Started: fxStart.Add(40 * time.Minute),
			FailureClass: schema.FailureKShape, Reason: "'BlockKVCacheManager' object has no attribute 'k_shape'",
			Findings: []schema.LogFinding{{Class: schema.FailureKShape, Fatal: true, Line: "AttributeError: 'BlockKVCacheManager' object has no attribute 'k_shape'",
				Message: "is_block_kv_layout is set without prefix caching"}}},
		phases: two(false)}
	for _, p := range kshape.phases {
		kshape.status.Phases = append(kshape.status.Phases, schema.PhaseStatus{Name: p.name, Status: schema.StatusSkipped, Reason: "server failed to start"})
	}
	interrupted := fxConfig{status: schema.ConfigStatus{Name: "cache_OFF_bucketing_OFF", Status: schema.StatusInterrupted, Reason: "interrupted by the user (SIGINT)",
		Settings: fxSettings(false, false), PrefixCacheReset: schema.ResetOK},
		startup: fxStartup("cache_OFF_bucketing_OFF", true, fxStart.Add(50*time.Minute)), service: 1.2, phases: two(true)}
	// Interrupted during its rate-inf phase, which wrote a partial result.
	interrupted.phases[1].upTo, interrupted.phases[1].end = 12, schema.EndInterrupted
	// The server died during the sync phase, which wrote a partial result;
	// the prefix-cache reset it was sent failed; the rate-inf phase was
	// skipped.
	crashed := fxConfig{status: schema.ConfigStatus{Name: "cache_OFF_bucketing_ON_seqs2", Status: schema.StatusFailed, FailureClass: string(schema.FailureCrashed),
		Reason: "the server exited during phase sync", Settings: fxSettings(false, true), PrefixCacheReset: schema.ResetFailed},
		startup: fxStartup("cache_OFF_bucketing_ON_seqs2", true, fxStart.Add(70*time.Minute)), service: 0.25, phases: two(true)}
	crashed.phases[0].upTo, crashed.phases[0].end = 3, schema.EndServerExited
	crashed.phases[1].done = false
	pending := fxConfig{status: schema.ConfigStatus{Name: "cache_OFF_bucketing_ON_seqs8", Status: schema.StatusPending, Settings: fxSettings(false, true)},
		phases: two(false)}
	f.configs = []fxConfig{ok, voided, kshape, interrupted, crashed, pending}
	return f
}

// write generates the directory from scratch.
func (f fixture) write(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	m := f.manifest
	m.Configs = nil
	for ci, c := range f.configs {
		cdir := filepath.Join(dir, c.status.Name)
		if err := os.MkdirAll(cdir, 0o755); err != nil {
			return err
		}
		cs := c.status
		if c.startup != nil {
			if err := schema.WriteJSONAtomic(filepath.Join(cdir, "startup.json"), c.startup); err != nil {
				return err
			}
		}
		if len(cs.Phases) == 0 {
			t := fxStart.Add(time.Duration(ci)*10*time.Minute + time.Minute)
			capacity := 0.0 // the stress phase's query throughput
			for _, p := range c.phases {
				if p.search != nil {
					var err error
					if t, err = writeSearch(dir, &cs, c, p, capacity, m.Simulated, t); err != nil {
						return err
					}
					continue
				}
				if p.share > 0 {
					p.rate = schema.Rate(round(p.share*capacity, 4))
				}
				ps := schema.PhaseStatus{Name: p.name, Status: schema.StatusOK, File: schema.PhaseFile(cs.Name, p.name)}
				switch {
				case p.end == schema.EndInterrupted:
					ps.Status, ps.Reason = schema.StatusInterrupted, "interrupted: partial results"
				case p.end == schema.EndServerExited:
					ps.Status, ps.Reason = schema.StatusFailed, cs.Reason
				case !p.done && cs.Status == schema.StatusInterrupted:
					ps.Status, ps.File, ps.Reason = schema.StatusInterrupted, "", "interrupted by the user (SIGINT)"
				case !p.done && cs.Status == schema.StatusFailed:
					ps.Status, ps.File, ps.Reason = schema.StatusSkipped, "", "not run: the server failed earlier"
				case !p.done:
					ps.Status, ps.File = schema.StatusPending, ""
				}
				if p.done {
					r, hists := simulatePhase(cs.Name, c.service, p, m.Simulated, t, cs.Settings)
					t = r.EndedAt.Add(5 * time.Second)
					if p.arrival == "inf" {
						capacity = r.QueryThroughput
					}
					if p.share > 0 {
						r.RateShare, r.RateBasis = p.share, &schema.RateBasis{Phase: "stress", Capacity: capacity}
					}
					if r.Saturation != nil {
						ps.Reason = "SATURATED: cut: " + r.Saturation.Evidence
					}
					if err := schema.WriteJSONAtomic(filepath.Join(dir, ps.File), r); err != nil {
						return err
					}
					if p.hlog {
						if err := writeHlog(filepath.Join(dir, schema.HlogFile(cs.Name, p.name)), hists, r.StartedAt); err != nil {
							return err
						}
					}
				}
				cs.Phases = append(cs.Phases, ps)
			}
		}
		m.Configs = append(m.Configs, cs)
	}
	return schema.WriteJSONAtomic(filepath.Join(dir, schema.ManifestFile), m)
}

// fxHists are a phase's histograms, in two halves (two log intervals).
type fxHists map[string][2]*hdrhistogram.Histogram

func (h fxHists) record(metric string, half int, seconds float64) {
	if _, ok := h[metric]; !ok {
		h[metric] = [2]*hdrhistogram.Histogram{hdrhistogram.New(1, 3_600_000_000, 3), hdrhistogram.New(1, 3_600_000_000, 3)}
	}
	h[metric][half].RecordValue(max(1, int64(math.Round(seconds*1e6))))
}

func (h fxHists) merged(metric string) *hdrhistogram.Histogram {
	m := hdrhistogram.New(1, 3_600_000_000, 3)
	m.Merge(h[metric][0])
	m.Merge(h[metric][1])
	return m
}

func stats(h *hdrhistogram.Histogram) schema.Stats {
	ms := func(v float64) float64 { return math.Round(v) / 1000 }
	q := func(p float64) float64 { return ms(float64(h.ValueAtQuantile(p))) }
	return schema.Stats{Count: h.TotalCount(), Mean: ms(h.Mean()), Median: q(50), Std: ms(h.StdDev()),
		Min: ms(float64(h.Min())), Max: ms(float64(h.Max())), P50: q(50), P90: q(90), P95: q(95), P99: q(99), P999: q(99.9)}
}

// simulatePhase runs the queueing model for one phase: each query fans
// out into 3 requests served back to back by one engine; sync waits for
// each query, open-loop phases arrive on a seeded Poisson schedule, rate
// inf dispatches everything at once bounded by max_concurrency queries.
func simulatePhase(config string, service float64, p fxPhase, simulated bool, start time.Time, settings json.RawMessage) (*schema.PhaseResult, fxHists) {
	hs := fnv.New64a()
	hs.Write([]byte(config + "/" + p.name))
	rng := rand.New(rand.NewPCG(hs.Sum64(), 7))
	hists := fxHists{}
	var t, arrival, busyUntil, queueSum float64
	var queueWaits []float64
	var ends []float64
	good := 0
	n := p.queries
	if p.upTo > 0 {
		n = p.upTo
	}
	if p.cut {
		n = p.queries / 2
	}
	for i := 0; i < n; i++ {
		s := service * math.Exp(0.08*rng.NormFloat64())
		if rng.IntN(20) == 0 {
			s *= 1.25
		}
		lag := 0.00005 + 0.0002*rng.Float64()
		var scheduled, sent float64
		switch p.arrival {
		case "sync":
			scheduled, sent = t, t+lag
		case "inf":
			scheduled, sent = 0, lag
			if k := *p.maxConc; i >= k {
				sent = ends[i-k] + lag
			}
		default:
			arrival += rng.ExpFloat64() / float64(p.rate)
			scheduled, sent = arrival, arrival+lag
		}
		begin := math.Max(sent, busyUntil)
		end := begin + s + 0.004
		busyUntil = end
		ends = append(ends, end)
		t = end + 0.001
		half := min(1, 2*i/n)
		for j := 1; j <= 3; j++ {
			wait := begin - sent
			hists.record(schema.MetricTTFT, half, wait+s*float64(j)/3*0.95)
			hists.record(schema.MetricE2EL, half, wait+s*float64(j)/3)
			hists.record(schema.MetricScheduleLag, half, sent-scheduled)
			hists.record(schema.MetricResponseTime, half, sent-scheduled+wait+s*float64(j)/3)
			queueWaits = append(queueWaits, wait*1000)
			queueSum += wait * 1000
		}
		hists.record(schema.MetricQueryLatency, half, end-scheduled)
		if end-scheduled <= 1.0 {
			good++
		}
	}
	duration := ends[len(ends)-1]
	end := schema.EndCompleted
	if p.end != "" {
		end = p.end
	}
	var sat *schema.Saturation
	if p.cut {
		end = schema.EndSaturated
		sat = &schema.Saturation{Reason: schema.SaturatedGrowth, At: round(duration, 3), Planned: p.queries, Due: n + 3,
			Backlog: 0, InFlight: 3, QueueSlope: 0.8, QueueSlopeCI: 0.3, Window: 12, RecentLatency: 3.4, LatencyFactor: 3,
			QueriesCut: 3, RequestsCut: 9, NotSent: p.queries - n - 3,
			Evidence: "the queue (due but unfinished) grew by 0.80 queries/s (±0.30, 95%) over 12 s to 9 queries, and the last queries took 3.40 s (median), past 3 × the SLO of 1s"}
	}
	r := &schema.PhaseResult{
		SchemaVersion: schema.PhaseSchemaVersion, Simulated: simulated, Config: config, Phase: p.name,
		ModelID: "Qwen3-Reranker-0.6B", Arrival: p.arrival, RequestRate: p.rate, MaxConcurrency: p.maxConc, Seed: 42,
		StartedAt: start, EndedAt: start.Add(time.Duration(duration * float64(time.Second))), EndReason: end,
		Duration: round(duration, 6), Completed: 3*n - p.failed, Failed: p.failed,
		TotalInputTokens: int64(n * 20 * 412), TotalOutputTokens: int64(n * 20),
		QueriesCompleted: n - (p.failed+2)/3, QueriesFailed: (p.failed + 2) / 3, QueriesPlanned: p.queries,
		LateThresholdMs: 10, WarmupQueries: 2, DatasetCycles: (n - 1) / 10, PromptMethod: "tokenize", Saturation: sat,
		Errors: map[string]schema.ErrorCount{}, SLO: &schema.SLO{QueryLatencyMs: 1000},
		Quality: &schema.Quality{ScoredDocuments: int64(n * 20), TopN: 6, MissingYes: int64(p.missingYes)},
		Latency: map[string]schema.Stats{},
	}
	if p.arrival == "sync" {
		r.Burstiness = 0
	} else if p.arrival == "poisson" {
		r.Burstiness = 1
	}
	r.RequestThroughput = round(float64(r.Completed)/duration, 6)
	r.OutputThroughput = round(float64(r.TotalOutputTokens)/duration, 6)
	r.TotalTokenThroughput = round(float64(r.TotalInputTokens+r.TotalOutputTokens)/duration, 6)
	r.QueryThroughput = round(float64(r.QueriesCompleted)/duration, 6)
	r.QueryGoodput = f64(round(float64(min(good, r.QueriesCompleted))/duration, 6))
	switch p.arrival {
	case "sync":
		r.AchievedRate = r.QueryThroughput
	case "inf":
		r.AchievedRate = round(float64(n)/ends[n-*p.maxConc-1], 6)
	default:
		r.AchievedRate = round(float64(n)/arrival, 6)
	}
	if p.failed > 0 {
		r.Errors["timeout"] = schema.ErrorCount{Count: p.failed, Sample: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"}
	}
	if p.lateArrival {
		r.LateArrivals = 3
	}
	for _, m := range []string{schema.MetricTTFT, schema.MetricE2EL, schema.MetricQueryLatency, schema.MetricResponseTime, schema.MetricScheduleLag} {
		r.Latency[m] = stats(hists.merged(m))
	}
	sort.Float64s(queueWaits)
	sm := &schema.ServerMetrics{
		QueueTime: &schema.HistogramSummary{Count: float64(len(queueWaits)), MeanMs: math.Round(queueSum/float64(len(queueWaits))*1000) / 1000,
			P50Ms: math.Round(queueWaits[len(queueWaits)/2]*1000) / 1000, P90Ms: math.Round(queueWaits[len(queueWaits)*9/10]*1000) / 1000,
			P99Ms: math.Round(queueWaits[len(queueWaits)*99/100]*1000) / 1000},
		Preemptions:      f64(0),
		RequestsFinished: map[string]float64{"length": float64(r.Completed)},
		Waiting:          &schema.GaugeSummary{Samples: int(duration) + 1, Mean: 0, Max: 0},
		KVCache:          &schema.GaugeSummary{Samples: int(duration) + 1, Mean: 0.21, Max: 0.34},
	}
	if p.arrival != "sync" {
		sm.Waiting = &schema.GaugeSummary{Samples: int(duration) + 1, Mean: 1.5, Max: 9}
		sm.KVCache.Max = 0.62
	}
	if set, _ := ParseSettings(settings); set.Bool(KeyPrefixCaching) != nil && *set.Bool(KeyPrefixCaching) {
		queries := float64(n * 20 * 412)
		rate := 0.06 + 0.9*float64(r.DatasetCycles)/float64(r.DatasetCycles+1)
		hits := math.Round(queries * rate)
		sm.PrefixCacheQueries, sm.PrefixCacheHits, sm.PrefixCacheHitRate = &queries, &hits, f64(hits/queries)
	}
	r.ServerMetrics = sm
	return r, hists
}

// writeHlog writes a standard HdrHistogram interval log, two intervals per
// metric, tagged with the metric name.
func writeHlog(path string, hists fxHists, start time.Time) error {
	var b bytes.Buffer
	w := hdrhistogram.NewHistogramLogWriter(&b)
	w.OutputLogFormatVersion()
	w.OutputStartTime(start.UnixMilli())
	w.OutputLegend()
	metrics := make([]string, 0, len(hists))
	for m := range hists {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	for half := 0; half < 2; half++ {
		for _, m := range metrics {
			h := hists[m][half]
			h.SetTag(m)
			h.SetStartTimeMs(start.UnixMilli() + int64(half)*1000)
			h.SetEndTimeMs(start.UnixMilli() + int64(half+1)*1000)
			if err := w.OutputIntervalHistogram(h); err != nil {
				return err
			}
		}
	}
	return schema.WriteFileAtomic(path, b.Bytes())
}

// writeSearch writes a search phase at an SLO of p99 query latency ≤ 1.3 s:
// its trials at p.search's shares of capacity (each a phase of its own,
// listed under the search in the manifest), judged by their p99, and the
// search phase's result — the passing trial's numbers with the search
// record. A config slower than the SLO with no load runs no trial.
func writeSearch(dir string, cs *schema.ConfigStatus, c fxConfig, p fxPhase, capacity float64, simulated bool, t time.Time) (time.Time, error) {
	slo := schema.SearchSLO{Metric: schema.MetricQueryLatency, Percentile: 99, MaxMs: 1300, MaxFailed: 0.01}
	rec := &schema.SearchResult{SLO: slo, Tolerance: 0.05, Upper: capacity, UpperPhase: "stress", Trials: []schema.Trial{},
		Unloaded: round(1000*c.service*1.1, 3), UnloadedPhase: "sync"}
	cs.Phases = append(cs.Phases, schema.PhaseStatus{Name: p.name, Status: schema.StatusOK, File: schema.PhaseFile(cs.Name, p.name)})
	results := map[int]*schema.PhaseResult{}
	began := t
	lo, hi := 0, 0
	if rec.Unloaded > slo.MaxMs {
		rec.Converged, rec.Reason = true, "the SLO fails with no load at all"
	} else {
		for i, share := range p.search {
			n := i + 1
			tp := p
			tp.name, tp.search, tp.rate = schema.TrialName(p.name, n), nil, schema.Rate(round(share*capacity, 4))
			r, hists := simulatePhase(cs.Name, c.service, tp, simulated, t, cs.Settings)
			t = r.EndedAt.Add(2 * time.Second)
			tr := schema.Trial{N: n, Phase: tp.name, File: schema.TrialFile(cs.Name, p.name, n), Rate: float64(tp.rate),
				Value: r.Latency[schema.MetricQueryLatency].P99, Queries: r.QueriesCompleted + r.QueriesFailed,
				EndReason: r.EndReason, Duration: r.Duration, Throughput: r.QueryThroughput}
			tr.Pass = tr.Value <= slo.MaxMs
			verdict := "SLO held"
			if !tr.Pass {
				tr.Why = fmt.Sprintf("p99 query_latency %.0f ms > 1.3 s", tr.Value)
				verdict = "SLO missed: " + tr.Why
			}
			rec.Trials = append(rec.Trials, tr)
			results[n] = r
			if err := schema.WriteJSONAtomic(filepath.Join(dir, tr.File), r); err != nil {
				return t, err
			}
			if err := writeHlog(filepath.Join(dir, schema.HlogFile(cs.Name, tp.name)), hists, r.StartedAt); err != nil {
				return t, err
			}
			cs.Phases = append(cs.Phases, schema.PhaseStatus{Name: tp.name, Status: schema.StatusOK, File: tr.File, Reason: verdict, Search: p.name})
		}
		for i, tr := range rec.Trials {
			if !tr.Pass && (hi == 0 || tr.Rate < rec.Trials[hi-1].Rate) {
				hi = i + 1
			}
		}
		for i, tr := range rec.Trials {
			if tr.Pass && (hi == 0 || tr.Rate < rec.Trials[hi-1].Rate) && (lo == 0 || tr.Rate > rec.Trials[lo-1].Rate) {
				lo = i + 1
			}
		}
		rec.Pass, rec.Fail, rec.Converged = lo, hi, true
		rec.Reason = "bracket closed"
		if lo > 0 {
			rec.CapacityAtSLO = rec.Trials[lo-1].Rate
		}
	}
	rec.Seconds = round(t.Sub(began).Seconds(), 3)
	res := &schema.PhaseResult{SchemaVersion: schema.PhaseSchemaVersion, Simulated: simulated, Config: cs.Name, Arrival: "poisson",
		StartedAt: t, Errors: map[string]schema.ErrorCount{}, Latency: map[string]schema.Stats{}}
	if base := results[lo]; base != nil {
		cp := *base
		res = &cp
	}
	res.Phase, res.EndReason, res.EndedAt = p.name, schema.EndCompleted, t
	capAt := rec.CapacityAtSLO
	res.CapacityAtSLO, res.Search = &capAt, rec
	for i := range cs.Phases {
		if cs.Phases[i].Name == p.name {
			cs.Phases[i].CapacityAtSLO = &capAt
			cs.Phases[i].Reason = fmt.Sprintf("capacity at SLO %.4g q/s in %d trials", capAt, len(rec.Trials))
		}
	}
	return t, schema.WriteJSONAtomic(filepath.Join(dir, schema.PhaseFile(cs.Name, p.name)), res)
}
