package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// TestRun runs a phase end to end against a loopback server with the real
// client, and checks the result, requests.jsonl, the hlog and progress.
func TestRun(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(FastHandler())
	defer srv.Close()
	var reqs, hlog bytes.Buffer
	var mu sync.Mutex
	var progress []Progress
	ph := Phase{Name: "run", Arrival: schema.ArrivalPoisson, Rate: 400, Queries: 120, Warmup: 2, MaxConcurrency: 8, Seed: 1}
	res, err := Run(context.Background(), ph, &testSource{reqs: 2}, Options{
		BaseURL: srv.URL, Model: "m", RequestsLog: &reqs, Hlog: &hlog, Simulated: true,
		Progress: func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 240 || res.Failed != 0 || res.QueriesCompleted != 120 || res.EndReason != schema.EndCompleted {
		t.Fatalf("completed %d failed %d queries %d end %q (errors %v)", res.Completed, res.Failed,
			res.QueriesCompleted, res.EndReason, res.Errors)
	}
	if res.TotalInputTokens != 240*12 || res.TotalOutputTokens != 240 {
		t.Errorf("tokens %d/%d, want %d/240", res.TotalInputTokens, res.TotalOutputTokens, 240*12)
	}
	if res.Duration <= 0 || res.AchievedRate <= 0 || res.StartedAt.IsZero() || !res.EndedAt.After(res.StartedAt) {
		t.Errorf("duration %v achieved %v times %v–%v", res.Duration, res.AchievedRate, res.StartedAt, res.EndedAt)
	}

	// requests.jsonl: one parseable line per request, warmup marked.
	sc := bufio.NewScanner(&reqs)
	lines, warm := 0, 0
	for sc.Scan() {
		var l struct {
			Warmup    bool     `json:"warmup"`
			Sent      *float64 `json:"sent_us"`
			TTFT      *float64 `json:"ttft_ms"`
			Status    int      `json:"status"`
			Simulated bool     `json:"simulated"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v: %s", lines+1, err, sc.Bytes())
		}
		lines++
		if l.Warmup {
			warm++
		}
		if l.Sent == nil || l.TTFT == nil || l.Status != 200 || !l.Simulated {
			t.Errorf("line %d: %s", lines, sc.Bytes())
		}
	}
	if lines != 244 || warm != 4 {
		t.Errorf("requests log: %d lines, %d warmup; want 244 and 4", lines, warm)
	}

	// The hlog reads back into the phase's histograms.
	if !strings.Contains(hlog.String(), "SIMULATED") {
		t.Error("hlog does not say SIMULATED")
	}
	hists, err := schema.ReadHlog(&hlog)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range schema.Metrics {
		want := res.Latency[m].Count
		var got int64
		if h := hists[m]; h != nil {
			got = h.TotalCount()
		}
		if got != want {
			t.Errorf("hlog %s: %d values, want %d", m, got, want)
		}
	}
	if h := hists[schema.MetricTTFT]; h != nil {
		if got, want := float64(h.ValueAtPercentile(99))/1e3, res.Latency[schema.MetricTTFT].P99; got < want || got > want*1.002 {
			t.Errorf("hlog ttft p99 %v ms, result %v ms", got, want)
		}
	}

	// Progress is reported at least once at the end, complete.
	mu.Lock()
	defer mu.Unlock()
	if len(progress) == 0 {
		t.Fatal("no progress")
	}
	last := progress[len(progress)-1]
	if last.QueriesDone != 120 || last.QueriesTotal != 120 || last.RequestsDone != 240 || last.Warmup || last.TTFTP99 <= 0 {
		t.Errorf("last progress %+v", last)
	}
}

func TestRunInvalid(t *testing.T) {
	t.Parallel()
	if _, err := Run(context.Background(), Phase{Name: "x"}, &testSource{}, Options{BaseURL: "http://127.0.0.1:1"}); err == nil {
		t.Error("invalid phase accepted")
	}
	ph := Phase{Name: "x", Arrival: schema.ArrivalSync, Queries: 1}
	if _, err := Run(context.Background(), ph, &testSource{}, Options{}); err == nil {
		t.Error("empty base URL accepted")
	}
}

// TestRunScores runs a scored phase against a server that returns the
// reranker's logprobs and one that drops them.
func TestRunScores(t *testing.T) {
	t.Parallel()
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	for _, tc := range []struct {
		name    string
		body    string
		missing int
	}{
		{"logprobs", sse(logprobsEv(0, `{"yes":-0.1,"no":-2.3}`), evUsage, evDone), 0}, // scored
		{"on-device sampling", sse(evTok0, evUsage, evDone), 6},                        // every request fails
	} {
		srv := httptest.NewServer(sseHandler(tc.body))
		res, err := Run(context.Background(), Phase{Name: "s", Arrival: schema.ArrivalSync, Queries: 3},
			&testSource{reqs: 2, docs: 2, relevant: []int{1}}, Options{BaseURL: srv.URL, Scorer: &scorer})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Errors[KindMissingLogprobs].Count; got != tc.missing {
			t.Errorf("%s: %d missing_logprobs errors, want %d", tc.name, got, tc.missing)
		}
		if tc.missing == 0 && (res.Quality.ScoredDocuments != 6 || res.Quality.LabelledQueries != 3) {
			t.Errorf("%s: quality %+v", tc.name, res.Quality)
		}
	}
}

// TestRunIncompleteAnswers runs a scored phase against servers whose 200
// streams do not answer every prompt as asked: each such request fails with
// its kind, its query fails, no document of it is scored, and a warning
// says so.
func TestRunIncompleteAnswers(t *testing.T) {
	t.Parallel()
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	ev := func(i int) string { return logprobsEv(i, `{"yes":-0.1,"no":-2.3}`) }
	for _, tc := range []struct {
		name, body, kind string
	}{
		// Two of four choices, then [DONE].
		{"missing choices", sse(ev(0), ev(1), evUsage, evDone), KindMissingChoices},
		// The same stream cut short without [DONE].
		{"missing choices, no done", sse(ev(0), ev(1), evUsage), KindMissingChoices},
		// Four chunks, but one index twice and one never.
		{"duplicate", sse(ev(0), ev(1), ev(2), ev(2), evUsage, evDone), KindDuplicateChoice},
		// An index beyond the request's prompts.
		{"bad index", sse(ev(0), ev(1), ev(2), ev(4), evUsage, evDone), KindBadChoiceIndex},
	} {
		srv := httptest.NewServer(sseHandler(tc.body))
		src := &maxTokensSource{testSource{reqs: 2, docs: 8, relevant: []int{1}}}
		res, err := Run(context.Background(), Phase{Name: "s", Arrival: schema.ArrivalSync, Queries: 3}, src,
			Options{BaseURL: srv.URL, Scorer: &scorer})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Completed != 0 || res.Failed != 6 || res.Errors[tc.kind].Count != 6 || res.QueriesCompleted != 0 || res.QueriesFailed != 3 {
			t.Errorf("%s: completed %d failed %d queries %d/%d errors %v; want 0, 6 %s, 0/3", tc.name,
				res.Completed, res.Failed, res.QueriesCompleted, res.QueriesFailed, res.Errors, tc.kind)
		}
		if res.Quality == nil || res.Quality.ScoredDocuments != 0 {
			t.Errorf("%s: quality %+v, want no scored document", tc.name, res.Quality)
		}
		if want := "6 requests were answered incompletely or out of shape (" + tc.kind + " 6)"; !strings.Contains(strings.Join(res.Warnings, "\n"), want) {
			t.Errorf("%s: warnings %q, want %q", tc.name, res.Warnings, want)
		}
	}
}

// maxTokensSource is a testSource whose requests ask for one token.
type maxTokensSource struct{ testSource }

func (s *maxTokensSource) Next(ctx context.Context) (workload.Item, error) {
	it, err := s.testSource.Next(ctx)
	for j := range it.Requests {
		it.Requests[j].MaxTokens = 1
	}
	return it, err
}

// TestRunLeavesNoGoroutines checks that Run closes the connections of the
// client it made, so that repeated phases do not pile up goroutines.
func TestRunLeavesNoGoroutines(t *testing.T) {
	u, stop, err := serveFast(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	before := runtime.NumGoroutine()
	ph := Phase{Name: "g", Arrival: schema.ArrivalInf, MaxConcurrency: 16, Queries: 400}
	if _, err := Run(context.Background(), ph, &testSource{}, Options{BaseURL: u}); err != nil {
		t.Fatal(err)
	}
	// Closed connections end their goroutines asynchronously: wait for the
	// count to settle (bounded), then compare.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before Run, %d after", before, after)
	}
}
