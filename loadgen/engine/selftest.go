package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// The Measure functions produce the fidelity and speed figures of the load
// engine. They run real phases through Run on loopback and return figures
// with a String method; `loadgen selftest` and the benchmarks in
// fidelity_test.go print them. An empty baseURL means an in-process
// FastHandler server (whose CPU then counts as the client's).

// AccuracyRow compares one percentile of one metric with the truth.
type AccuracyRow struct {
	Metric     string
	Percentile float64
	MeasuredMs float64
	TruthMs    float64
	BoundMs    float64 // 1% of the truth + 0.5 ms
	OK         bool
}

// AccuracyFigures is the result of MeasureAccuracy.
type AccuracyFigures struct {
	Arrival  string
	Rate     float64
	Requests int
	Failed   int
	Rows     []AccuracyRow
}

// splitmix returns a well-mixed uniform value in [0,1) for i.
func splitmix(i int64) float64 {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// TruthDelaysDefault is the delay model of MeasureAccuracy: TTFT uniform
// in [2 ms, 40 ms) and four token chunks 3 ms apart.
func TruthDelaysDefault(i int64) TruthDelays {
	return TruthDelays{TTFT: 2*time.Millisecond + time.Duration(splitmix(i)*38e6), ITL: 3 * time.Millisecond, Tokens: 4}
}

// MeasureAccuracy runs a Poisson phase at rate requests/s against a
// TruthServer and compares measured TTFT and E2E percentiles with the
// server's own stamps.
func MeasureAccuracy(ctx context.Context, rate float64, requests int) (*AccuracyFigures, error) {
	srv, err := StartTruthServer(TruthDelaysDefault)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	ph := Phase{Name: "accuracy", Arrival: schema.ArrivalPoisson, Rate: schema.Rate(rate), Queries: requests, Warmup: 20, Seed: 1}
	return measureAccuracy(ctx, srv, ph)
}

// measureAccuracy runs ph (one truthRequest per query, Warmup > 0) against
// srv and compares measured TTFT and E2E percentiles with the server's.
func measureAccuracy(ctx context.Context, srv *TruthServer, ph Phase) (*AccuracyFigures, error) {
	o := Options{BaseURL: srv.URL}
	// The truth counts from the first measured request on.
	o.onResult = func(r *Result) {
		if r.Warmup && r.Request == 0 && r.Query == ph.Warmup-1 {
			srv.Reset()
		}
	}
	res, err := Run(ctx, ph, &repeatSource{req: truthRequest}, o)
	if err != nil {
		return nil, err
	}
	ttft, e2e := srv.Truth()
	f := &AccuracyFigures{Arrival: ph.Arrival, Rate: float64(ph.Rate), Requests: res.Completed, Failed: res.Failed}
	for _, m := range []struct {
		name  string
		truth func(float64) int64
		s     schema.Stats
	}{{schema.MetricTTFT, ttft.ValueAtPercentile, res.Latency[schema.MetricTTFT]}, {schema.MetricE2EL, e2e.ValueAtPercentile, res.Latency[schema.MetricE2EL]}} {
		for _, p := range []struct {
			p float64
			v float64
		}{{50, m.s.P50}, {90, m.s.P90}, {99, m.s.P99}, {99.9, m.s.P999}} {
			truth := float64(m.truth(p.p)) / 1e3
			bound := 0.01*truth + 0.5
			f.Rows = append(f.Rows, AccuracyRow{m.name, p.p, p.v, truth, bound, math.Abs(p.v-truth) <= bound})
		}
	}
	return f, nil
}

// OK reports whether every row is within its bound and nothing failed.
func (f *AccuracyFigures) OK() bool {
	for _, r := range f.Rows {
		if !r.OK {
			return false
		}
	}
	return f.Failed == 0
}

// String renders the figures for a terminal.
func (f *AccuracyFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "accuracy: %d requests at %g/s %s against a server with known delays (failed %d); ok=%v\n", f.Requests, f.Rate, f.Arrival, f.Failed, f.OK())
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tpct\tmeasured ms\ttruth ms\t|diff| ms\tbound ms\tok\t")
	for _, r := range f.Rows {
		fmt.Fprintf(tw, "%s\tp%g\t%.3f\t%.3f\t%.3f\t%.3f\t%v\t\n", r.Metric, r.Percentile, r.MeasuredMs, r.TruthMs,
			math.Abs(r.MeasuredMs-r.TruthMs), r.BoundMs, r.OK)
	}
	_ = tw.Flush()
	return b.String()
}

// ScheduleFigures is the result of MeasureSchedule.
type ScheduleFigures struct {
	Arrival    string
	Burstiness float64
	Rate       float64
	Queries    int
	Achieved   float64
	// RateError is (achieved − rate)/rate.
	RateError float64
	LagP50Ms  float64
	LagP99Ms  float64
	LagMaxMs  float64
	Late      int
	// LagTargetMs is the bound on LagP99Ms (ScheduleLagTarget).
	LagTargetMs float64
	// KSD and KSP test the schedule's gaps against the requested
	// distribution (poisson, gamma). SentKSD and SentKSP test the gaps
	// between actual sends at SendResolution (KSTestAbove): the gaps
	// longer than it against the distribution conditioned on that;
	// RawSentKSD is the distance over all sent gaps, for information. For
	// constant, MaxGapErrorNs and SentGapP99ErrorUs stand in.
	KSD, KSP, SentKSD, SentKSP, RawSentKSD float64
	MaxGapErrorNs                          float64
	SentGapP99ErrorUs                      float64
	// CPUPct is this process's CPU over the run, in % of one core;
	// SpinPct the part the dispatcher spent spinning before arrivals.
	CPUPct, SpinPct float64
}

// SendResolution is the finest gap between two sends the sent-gap test
// asks the client to reproduce. The dispatcher writes one request at a time
// and a write costs about 7 µs of CPU on loopback here, so two arrivals due
// closer than that leave that far apart: at 2k/s, 2% of Poisson gaps and
// 11% of gamma (k = 0.5) gaps are shorter than 10 µs. (When the server
// shares the client's CPUs, the kernel also runs the server's thread inside
// the write, which then takes 40–90 µs of wall time: gaps that short are
// stretched too, and the test says so.)
const SendResolution = 10 * time.Microsecond

// ScheduleLagTarget is the bound on the p99 schedule lag at rate arrivals/s:
// 0.5 ms per 1000/s, at least 0.5 ms (0.5 ms at 1k/s, 1 ms at 2k/s).
func ScheduleLagTarget(rate float64) time.Duration {
	return time.Duration(max(rate/1000, 1) * float64(500*time.Microsecond))
}

// MeasureSchedule runs an open-loop phase (one request per query) against
// baseURL and reports the achieved rate, schedule lag and KS tests.
func MeasureSchedule(ctx context.Context, baseURL string, ph Phase) (*ScheduleFigures, error) {
	if baseURL == "" {
		u, stop, err := serveFast(ctx)
		if err != nil {
			return nil, err
		}
		defer stop()
		baseURL = u
	}
	if ph.Queries <= 0 {
		return nil, fmt.Errorf("schedule: phase needs a query count")
	}
	lags := make([]float64, ph.Queries) // schedule lag of each measured query
	o := Options{BaseURL: baseURL}
	o.onResult = func(r *Result) {
		if i := r.Query - ph.Warmup; !r.Warmup && !r.NotSent && i >= 0 && i < len(lags) {
			lags[i] = (r.Sent - r.Scheduled).Seconds()
		}
	}
	var spun time.Duration
	o.spun = &spun
	cpu0, wall0 := cpuTime(), time.Now()
	res, err := Run(ctx, ph, &repeatSource{req: syntheticRequest}, o)
	if err != nil {
		return nil, err
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	sched := ScheduleGaps(ph, ph.Queries)
	offs := make([]float64, len(sched))
	acc := 0.0
	for i, g := range sched {
		acc += g
		offs[i] = acc + lags[i] // scheduled offset + lag = sent offset
	}
	slices.Sort(offs)
	sentGaps := Gaps(offs)
	lag := res.Latency[schema.MetricScheduleLag]
	f := &ScheduleFigures{Arrival: ph.Arrival, Burstiness: ph.Burstiness, Rate: float64(ph.Rate), Queries: res.Completed + res.Failed,
		Achieved: res.AchievedRate, RateError: (res.AchievedRate - float64(ph.Rate)) / float64(ph.Rate),
		LagP50Ms: lag.P50, LagP99Ms: lag.P99, LagMaxMs: lag.Max, Late: res.LateArrivals,
		LagTargetMs: float64(ScheduleLagTarget(float64(ph.Rate))) / 1e6,
		CPUPct:      100 * float64(cpu) / float64(wall), SpinPct: 100 * float64(spun) / float64(wall)}
	if cdf := GapCDF(ph); cdf != nil {
		f.KSD, f.KSP = KSTest(sched, cdf)
		f.SentKSD, f.SentKSP, _ = KSTestAbove(sentGaps, cdf, SendResolution.Seconds())
		f.RawSentKSD, _ = KSTest(sentGaps, cdf)
	} else {
		f.MaxGapErrorNs = MaxGapError(sched, float64(ph.Rate)) * 1e9
		errs := make([]float64, len(sentGaps))
		for i, g := range sentGaps {
			errs[i] = math.Abs(g - 1/float64(ph.Rate))
		}
		slices.Sort(errs)
		f.SentGapP99ErrorUs = errs[len(errs)*99/100] * 1e6
	}
	return f, nil
}

// OK reports whether the achieved rate is within 1% of the target, the
// p99 lag within its target, and both the schedule and the actual sends
// pass their distribution test: the KS test at p ≥ 0.01 for poisson and
// gamma; for constant, gaps exact to 1.5 ns in the schedule and the sent
// gaps' p99 error within the lag target.
func (f *ScheduleFigures) OK() bool {
	ok := math.Abs(f.RateError) <= 0.01 && f.LagP99Ms <= f.LagTargetMs
	if f.Arrival == schema.ArrivalConstant {
		return ok && f.MaxGapErrorNs <= 1.5 && f.SentGapP99ErrorUs <= 1000*f.LagTargetMs
	}
	return ok && f.KSP >= 0.01 && f.SentKSP >= 0.01
}

// String renders the figures for a terminal.
func (f *ScheduleFigures) String() string {
	dist := fmt.Sprintf("schedule KS D=%.4f p=%.3f; sent gaps over %v KS D=%.4f p=%.3f (all sent gaps D=%.4f)",
		f.KSD, f.KSP, SendResolution, f.SentKSD, f.SentKSP, f.RawSentKSD)
	if f.Arrival == schema.ArrivalConstant {
		dist = fmt.Sprintf("schedule max |gap−1/r| %.1f ns; sent gaps p99 |gap−1/r| %.1f µs", f.MaxGapErrorNs, f.SentGapP99ErrorUs)
	}
	k := ""
	if f.Arrival == schema.ArrivalGamma {
		k = fmt.Sprintf(" k=%g", f.Burstiness)
	}
	return fmt.Sprintf("schedule: %s%s %g/s, %d queries: achieved %.2f/s (%+.3f%%), lag p50 %.3f ms p99 %.3f ms (target %.2f) max %.3f ms, "+
		"late %d; %s; client CPU %.0f%% of a core (spinning %.0f%%); ok=%v",
		f.Arrival, k, f.Rate, f.Queries, f.Achieved, f.RateError*100, f.LagP50Ms, f.LagP99Ms, f.LagTargetMs, f.LagMaxMs,
		f.Late, dist, f.CPUPct, f.SpinPct, f.OK())
}

// selftestScorer scores the capacity and memory runs' RerankRequest.
var selftestScorer = workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)

// CapacityFigures is the result of MeasureCapacity.
type CapacityFigures struct {
	URL         string
	InProcess   bool // the server ran in this process (its CPU is counted)
	Concurrency int
	Requests    int
	Failed      int
	Seconds     float64
	PerSec      float64
	// CPUPerRequestUs is this process's user+system CPU per request.
	CPUPerRequestUs float64
	// AllocsPerRequest and BytesPerRequest are heap allocations per
	// request (the whole process).
	AllocsPerRequest, BytesPerRequest float64
}

// MeasureCapacity runs a closed loop (arrival inf, the given cap) of n
// requests against baseURL and reports requests/s and client CPU per
// request.
func MeasureCapacity(ctx context.Context, baseURL string, concurrency, n int) (*CapacityFigures, error) {
	f := &CapacityFigures{URL: baseURL, Concurrency: concurrency}
	if baseURL == "" {
		u, stop, err := serveFast(ctx)
		if err != nil {
			return nil, err
		}
		defer stop()
		baseURL, f.URL, f.InProcess = u, u, true
	}
	ph := Phase{Name: "capacity", Arrival: schema.ArrivalInf, MaxConcurrency: concurrency, Queries: n, Warmup: concurrency}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	res, err := Run(ctx, ph, &repeatSource{req: RerankRequest(), scored: true}, Options{BaseURL: baseURL, Scorer: &selftestScorer})
	if err != nil {
		return nil, err
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	total := res.Completed + res.Failed
	f.Requests, f.Failed, f.Seconds = total, res.Failed, res.Duration
	if res.Duration > 0 {
		f.PerSec = float64(res.Completed) / res.Duration
	}
	if total > 0 {
		all := float64(total + concurrency) // warmup included in CPU and allocations
		f.CPUPerRequestUs = float64(cpu.Microseconds()) / all
		f.AllocsPerRequest = float64(m1.Mallocs-m0.Mallocs) / all
		f.BytesPerRequest = float64(m1.TotalAlloc-m0.TotalAlloc) / all
	}
	return f, nil
}

// OK reports whether every request succeeded.
func (f *CapacityFigures) OK() bool { return f.Failed == 0 && f.Requests > 0 }

// String renders the figures for a terminal.
func (f *CapacityFigures) String() string {
	where := "server in another process"
	if f.InProcess {
		where = "server in this process: CPU and allocations include it"
	}
	return fmt.Sprintf("capacity: closed loop, max_concurrency %d, %d scored reranker requests of %d bytes (%d failed) in %.2f s: "+
		"%.0f requests/s; %.1f µs CPU, %.1f allocations, %.0f B per request (%s); ok=%v",
		f.Concurrency, f.Requests, len(RerankRequest().Body), f.Failed, f.Seconds, f.PerSec, f.CPUPerRequestUs,
		f.AllocsPerRequest, f.BytesPerRequest, where, f.OK())
}

// MemoryPoint is the process memory after some requests.
type MemoryPoint struct {
	Requests int
	RSSMB    float64 // VmRSS (0 where /proc is missing)
	HeapMB   float64 // Go heap in use
}

// MemoryFigures is the result of MeasureMemory.
type MemoryFigures struct {
	InProcess bool
	Points    []MemoryPoint
	Failed    int
}

// MemoryGrowthLimitMB bounds the growth of RSS from the first to the last
// point of MeasureMemory: memory must stay flat, whatever the phase's size.
const MemoryGrowthLimitMB = 8

// OK reports whether every request succeeded and RSS grew by at most
// MemoryGrowthLimitMB.
func (f *MemoryFigures) OK() bool {
	n := len(f.Points)
	return f.Failed == 0 && n > 0 && f.Points[n-1].RSSMB-f.Points[0].RSSMB <= MemoryGrowthLimitMB
}

// MeasureMemory runs n requests (closed loop, the given cap) with
// requests.jsonl and the hlog streaming to io.Discard, and samples memory
// after 10k requests and every tenfold after that.
func MeasureMemory(ctx context.Context, baseURL string, concurrency, n int) (*MemoryFigures, error) {
	f := &MemoryFigures{}
	if baseURL == "" {
		u, stop, err := serveFast(ctx)
		if err != nil {
			return nil, err
		}
		defer stop()
		baseURL, f.InProcess = u, true
	}
	next := 10000
	o := Options{BaseURL: baseURL, RequestsLog: io.Discard, Hlog: io.Discard, Scorer: &selftestScorer}
	count := 0
	o.onResult = func(r *Result) {
		if r.Warmup {
			return
		}
		count++
		if count == next || count == n {
			f.Points = append(f.Points, memoryPoint(count))
			next *= 10
		}
	}
	ph := Phase{Name: "memory", Arrival: schema.ArrivalInf, MaxConcurrency: concurrency, Queries: n}
	res, err := Run(ctx, ph, &repeatSource{req: RerankRequest(), scored: true}, o)
	if err != nil {
		return nil, err
	}
	f.Failed = res.Failed
	return f, nil
}

func memoryPoint(n int) MemoryPoint {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return MemoryPoint{Requests: n, RSSMB: rssMB(), HeapMB: float64(m.HeapInuse) / (1 << 20)}
}

// rssMB reads VmRSS from /proc/self/status.
func rssMB() float64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

// String renders the figures for a terminal.
func (f *MemoryFigures) String() string {
	var b strings.Builder
	where := ""
	if f.InProcess {
		where = " (server in this process)"
	}
	fmt.Fprintf(&b, "memory%s:", where)
	for _, p := range f.Points {
		fmt.Fprintf(&b, " %d requests: RSS %.1f MB, heap %.1f MB;", p.Requests, p.RSSMB, p.HeapMB)
	}
	fmt.Fprintf(&b, " %d failed; ok=%v", f.Failed, f.OK())
	return b.String()
}
