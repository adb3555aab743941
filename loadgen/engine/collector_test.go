package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/workload"
)

var (
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	usec = time.Microsecond
)

// feeder builds synthetic queries and results with fixed stamps and feeds
// them to a collector, as the dispatcher and client would.
type feeder struct {
	c *collector
}

func newFeeder(ph Phase, o *Options) *feeder {
	d := &dispatcher{ph: ph, now: func() time.Duration { return time.Second }, startWall: t0}
	c := newCollector(context.Background(), ph, o, d)
	return &feeder{c: c}
}

// query returns the state of a query of n requests, one document each.
func (f *feeder) query(n int, scheduled time.Duration, relevant []int) *queryState {
	it := workload.Item{Documents: n, Relevant: relevant, TopN: 2}
	for j := range n {
		it.Requests = append(it.Requests, workload.Request{Prompts: 1, Offset: j})
	}
	return &queryState{item: it, scheduled: scheduled, left: n, firstSent: -1}
}

// ok feeds a successful request.
func (f *feeder) ok(q *queryState, req int, sent, first, end time.Duration, out int64, score float64) {
	r := &Result{Request: req, Prompts: 1, Scheduled: q.scheduled, Sent: sent, FirstToken: first, End: end,
		Status: 200, Usage: true, PromptTokens: 100, OutputTokens: out, Chunks: int(out), q: q}
	if out > 1 {
		gap := (end - first) / time.Duration(out-1)
		for range out - 1 {
			r.ITL = append(r.ITL, gap)
		}
	}
	if !math.IsNaN(score) {
		r.Scores = []float64{score}
	}
	f.c.add(r)
}

func (f *feeder) fail(q *queryState, req int, sent, end time.Duration, kind, msg string) {
	f.c.add(&Result{Request: req, Prompts: 1, Scheduled: q.scheduled, Sent: sent, End: end, Status: 503,
		Kind: kind, Err: msg, q: q})
}

// scenario is the synthetic phase of the collector and golden tests.
func scenario(t *testing.T, o *Options) *schema.PhaseResult {
	t.Helper()
	ph := Phase{Name: "golden", Arrival: schema.ArrivalPoisson, Rate: 10, Queries: 3, Warmup: 1, MaxConcurrency: 4, Seed: 7,
		SLO: &schema.SLO{TTFTMs: 50, QueryLatencyMs: 200}}
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	o.Scorer, o.Simulated, o.Config, o.Model = &scorer, true, "c1", "Qwen/Qwen3-Reranker-0.6B"
	f := newFeeder(ph, o)
	nan := math.NaN()

	// A failed warmup query: reported as a warning, excluded from all else.
	w := f.query(1, -100*ms, nil)
	w.warmup = true
	f.c.add(&Result{Warmup: true, Prompts: 1, Scheduled: -100 * ms, Sent: -100 * ms, End: -90 * ms,
		Kind: KindHTTP5xx, Err: "HTTP 503: warming", q: w})
	f.c.start()

	// Query 0: two requests; the second misses the 50 ms TTFT SLO.
	q0 := f.query(2, 100*ms, []int{1})
	f.ok(q0, 0, 100*ms+200*usec, 130*ms, 140*ms, 1, 0.9)
	f.ok(q0, 1, 100*ms+300*usec, 170*ms, 180*ms, 1, 0.2)
	// Query 1: sent 5 ms late, five tokens (TPOT 10 ms); its document
	// lacked "no".
	q1 := f.query(1, 200*ms, nil)
	r := &Result{Prompts: 1, Scheduled: 200 * ms, Sent: 205 * ms, FirstToken: 220 * ms, End: 260 * ms,
		Status: 200, Usage: true, PromptTokens: 100, OutputTokens: 5, Chunks: 5, q: q1,
		ITL: []time.Duration{10 * ms, 10 * ms, 10 * ms, 10 * ms}, Scores: []float64{0.7}, MissingNo: 1}
	f.c.add(r)
	// Query 2: one request fails with a 500, so the query fails.
	q2 := f.query(2, 300*ms, []int{0})
	f.fail(q2, 0, 300*ms+100*usec, 310*ms, KindHTTP5xx, "HTTP 500: engine dead")
	f.ok(q2, 1, 300*ms+100*usec, 320*ms, 330*ms, 1, nan)
	f.c.d.dispatched.Store(3)
	f.c.d.lastDispatch.Store(int64(300*ms + 100*usec))
	return f.c.result(schema.EndCompleted, t0.Add(time.Second))
}

func TestCollector(t *testing.T) {
	t.Parallel()
	res := scenario(t, &Options{})
	checks := []struct {
		name      string
		got, want float64
	}{
		{"completed", float64(res.Completed), 4},                                          // failed requests are not completed
		{"failed", float64(res.Failed), 1},                                                // the 500
		{"queries completed", float64(res.QueriesCompleted), 2},                           // query 2 failed
		{"queries failed", float64(res.QueriesFailed), 1},                                 // any failed request fails the query
		{"queries planned", float64(res.QueriesPlanned), 3},                               // the phase's measured queries, for a partial phase's report
		{"late", float64(res.LateArrivals), 1},                                            // query 1, 5 ms > 1 ms
		{"duration", res.Duration, 0.33},                                                  // origin to the last end
		{"request goodput", *res.RequestGoodput, 3 / 0.33},                                // one request missed the TTFT SLO
		{"query goodput", *res.QueryGoodput, 1 / 0.33},                                    // query 0 had a bad request
		{"request throughput", res.RequestThroughput, 4 / 0.33},                           // completed / duration
		{"query throughput", res.QueryThroughput, 2 / 0.33},                               // completed queries / duration
		{"input tokens", float64(res.TotalInputTokens), 400},                              // successes only
		{"output tokens", float64(res.TotalOutputTokens), 8},                              // 1+1+5+1
		{"achieved rate", res.AchievedRate, 3 / 0.3001},                                   // dispatched over the dispatch span
		{"ttft count", float64(res.Latency[schema.MetricTTFT].Count), 4},                  // successes only
		{"ttft max", res.Latency[schema.MetricTTFT].Max, 69.7},                            // exact
		{"tpot", res.Latency[schema.MetricTPOT].Mean, 10},                                 // (40 ms)/(5−1)
		{"tpot count", float64(res.Latency[schema.MetricTPOT].Count), 1},                  // only with output > 1
		{"itl count", float64(res.Latency[schema.MetricITL].Count), 4},                    // pooled gaps
		{"query latency max", res.Latency[schema.MetricQueryLatency].Max, 80},             // last end − scheduled
		{"query latency min", res.Latency[schema.MetricQueryLatency].Min, 60},             // query 1
		{"query latency count", float64(res.Latency[schema.MetricQueryLatency].Count), 2}, // failed queries excluded
		{"response time max", res.Latency[schema.MetricResponseTime].Max, 80},             // end − scheduled
		{"lag count", float64(res.Latency[schema.MetricScheduleLag].Count), 5},            // every sent request
		{"lag max", res.Latency[schema.MetricScheduleLag].Max, 5},
		{"errors", float64(res.Errors[KindHTTP5xx].Count), 1}, // warmup error not counted
		{"scored", float64(res.Quality.ScoredDocuments), 3},
		{"missing no", float64(res.Quality.MissingNo), 1},
		{"labelled", float64(res.Quality.LabelledQueries), 1}, // query 2 failed
		{"ndcg", *res.Quality.NDCG, 1 / math.Log2(3)},         // relevant doc ranked second
		{"mrr", *res.Quality.MRR, 0.5},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if s := res.Errors[KindHTTP5xx].Sample; s != "HTTP 500: engine dead" {
		t.Errorf("error sample %q", s)
	}
	var warm string
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, "warmup:") {
			warm = w
		}
	}
	if warm != "warmup: 1 of 1 requests failed (first: http_5xx: HTTP 503: warming)" {
		t.Errorf("warnings %q, want the warmup failure", res.Warnings)
	}
}

func TestCollectorOnQuery(t *testing.T) {
	t.Parallel()
	var got []QueryOutcome
	o := &Options{OnQuery: func(q QueryOutcome) {
		q.Scores = append([]float64(nil), q.Scores...)
		got = append(got, q)
	}}
	res := scenario(t, o)
	if len(got) != 3 {
		t.Fatalf("%d outcomes, want 3", len(got))
	}
	// Query 0 ranks its relevant document 1 second: NDCG 1/log2(3), MRR 1/2.
	if !got[0].Labelled || math.Abs(got[0].NDCG-1/math.Log2(3)) > 1e-12 || got[0].MRR != 0.5 || got[0].Latency != 80*ms {
		t.Errorf("query 0 outcome %+v", got[0])
	}
	if got[0].Scores[0] != 0.9 || got[0].Scores[1] != 0.2 {
		t.Errorf("query 0 scores %v, want [0.9 0.2]", got[0].Scores)
	}
	if !got[2].Failed || got[2].Labelled {
		t.Errorf("query 2 outcome %+v, want failed and unranked", got[2])
	}
	if *res.Quality.NDCG != got[0].NDCG || *res.Quality.MRR != got[0].MRR {
		t.Errorf("phase quality %v/%v, want query 0's (the one labelled query)", *res.Quality.NDCG, *res.Quality.MRR)
	}
}

// TestPhaseResultGolden pins the phase result JSON (vLLM's keys and ours) and
// checks that it reads back into the same result.
func TestPhaseResultGolden(t *testing.T) {
	t.Parallel()
	res := scenario(t, &Options{})
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	testkit.Golden(t, filepath.Join("testdata", "phase.golden.json"), got)
	var back schema.PhaseResult
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.MarshalIndent(back, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(again, '\n'), got) {
		t.Errorf("round trip changed the JSON:\n%s", again)
	}
}

// TestCollectorGoodputSLOs checks which goodputs each kind of SLO yields.
// Two one-request queries: the first meets every SLO below, the second
// has a 30 ms TTFT, a 40 ms E2E and a 45 ms query latency.
func TestCollectorGoodputSLOs(t *testing.T) {
	t.Parallel()
	none := -1.0
	cases := []struct {
		name       string
		slo        *schema.SLO
		req, query float64 // good count, none: nil
	}{
		// No SLO: neither goodput.
		{"nil", nil, none, none},
		// An SLO with no threshold checks nothing.
		{"empty", &schema.SLO{}, none, none},
		// Only the query latency: no request-level SLO, so no request
		// goodput (it would equal the throughput); query goodput counts.
		{"query latency only", &schema.SLO{QueryLatencyMs: 20}, none, 1},
		// TTFT only: both; a query is good when all its requests are.
		{"ttft only", &schema.SLO{TTFTMs: 20}, 1, 1},
		// E2E only, loose enough for both.
		{"e2el only", &schema.SLO{E2ELMs: 50}, 2, 2},
		// A request-level SLO met by both, a query SLO met by one.
		{"ttft and query", &schema.SLO{TTFTMs: 50, QueryLatencyMs: 20}, 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ph := Phase{Name: "g", Arrival: schema.ArrivalPoisson, Rate: 10, Queries: 2, SLO: tc.slo}
			f := newFeeder(ph, &Options{})
			f.c.start()
			a := f.query(1, 0, nil)
			f.ok(a, 0, 1*ms, 5*ms, 10*ms, 1, math.NaN())
			b := f.query(1, 100*ms, nil)
			f.ok(b, 0, 105*ms, 135*ms, 145*ms, 1, math.NaN())
			res := f.c.result(schema.EndCompleted, t0.Add(time.Second))
			for _, g := range []struct {
				name string
				got  *float64
				want float64
			}{{"request goodput", res.RequestGoodput, tc.req}, {"query goodput", res.QueryGoodput, tc.query}} {
				switch {
				case g.want == none && g.got != nil:
					t.Errorf("%s = %v, want null", g.name, *g.got)
				case g.want != none && g.got == nil:
					t.Errorf("%s null, want %v/s", g.name, g.want/res.Duration)
				case g.want != none && math.Abs(*g.got-g.want/res.Duration) > 1e-9:
					t.Errorf("%s = %v, want %v", g.name, *g.got, g.want/res.Duration)
				}
			}
		})
	}
}

// TestCollectorLongLag records a schedule lag and a response time of
// several hours, as a concurrency cap produces in a long inf phase: they
// must count in every statistic, not fall out of the histogram range.
func TestCollectorLongLag(t *testing.T) {
	t.Parallel()
	ph := Phase{Name: "long", Arrival: schema.ArrivalInf, Queries: 2, MaxConcurrency: 1}
	f := newFeeder(ph, &Options{})
	f.c.start()
	a := f.query(1, 0, nil)
	f.ok(a, 0, 0, 10*ms, 20*ms, 1, math.NaN())
	late := 20 * time.Hour
	b := f.query(1, 0, nil)
	f.ok(b, 0, late, late+10*ms, late+20*ms, 1, math.NaN())
	// Far beyond the range (HDR rounds it up to about 38 h): counted and
	// warned about, never silently lost.
	c := f.query(1, 0, nil)
	f.ok(c, 0, 100*time.Hour, 100*time.Hour+10*ms, 100*time.Hour+20*ms, 1, math.NaN())
	res := f.c.result(schema.EndCompleted, t0.Add(time.Second))
	for _, m := range []string{schema.MetricScheduleLag, schema.MetricResponseTime} {
		s := res.Latency[m]
		if s.Count != 2 {
			t.Errorf("%s: %d values, want 2 (the 20 h one included)", m, s.Count)
		}
		if want := float64(late+20*ms) / 1e6; m == schema.MetricResponseTime && s.Max != want {
			t.Errorf("%s max %v ms, want %v", m, s.Max, want)
		}
		if lo, hi := float64(late)/1e6*0.999, float64(late+20*ms)/1e6; s.P99 < lo || s.P99 > hi {
			t.Errorf("%s p99 %v ms, want about %v", m, s.P99, float64(late)/1e6)
		}
	}
	want := "1 response_time values outside the histogram range (0 to 24h0m0s) were not recorded"
	if !slices.Contains(res.Warnings, want) {
		t.Errorf("warnings %q lack %q", res.Warnings, want)
	}
}
