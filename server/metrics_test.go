package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

// parseFile parses a testdata exposition.
func parseFile(t *testing.T, name string) *Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ParseMetrics(f)
	if err != nil {
		t.Fatalf("ParseMetrics(%s): %v", name, err)
	}
	return s
}

// TestSince_golden diffs two realistic vLLM expositions (50 requests of
// warm-up, then 200 more in the phase) against the golden ServerMetrics.
func TestSince_golden(t *testing.T) {
	t.Parallel()
	before, after := parseFile(t, "metrics_before.txt"), parseFile(t, "metrics_after.txt")
	m := after.Since(before)
	got, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	testkit.Golden(t, filepath.Join("testdata", "phasemetrics.golden.json"), got)

	// Figures that follow from how the files were made.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"prompt tokens", *m.PromptTokens, 200 * 187 * 8},
		{"generation tokens", *m.GenerationTokens, 200 * 8},
		{"finished by length", m.RequestsFinished["length"], (250*8 - 10) - (50*8 - 2)},
		{"aborted", m.RequestsFinished["abort"], 10 - 2},
		{"prefix hit rate", *m.PrefixCacheHitRate, 60000.0 / (200 * 187 * 8)},
		{"ttft count", m.TTFT.Count, 200},
		{"queue count", m.QueueTime.Count, 200},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// TTFT is queue + prefill + 2 ms for every request, so its quantiles
	// lie above the prefill's and its mean equals the sum of the means.
	if d := m.TTFT.MeanMs - m.QueueTime.MeanMs - m.Prefill.MeanMs; math.Abs(d-2) > 1e-6 {
		t.Errorf("ttft mean − queue mean − prefill mean = %v ms, want 2", d)
	}
	if m.Running != nil || m.Waiting != nil || m.KVCache != nil {
		t.Error("Since filled gauges; they come from a Sampler")
	}
}

func TestHistogramQuantile(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	tests := []struct {
		name    string
		buckets []bucket
		q, want float64
	}{
		// 10 observations spread over (0,1] and (1,2]: the median is the
		// top of the first bucket, p90 is 80% into the second.
		{"interpolates", []bucket{{1, 5}, {2, 10}, {inf, 10}}, 0.5, 1},
		{"interpolates p90", []bucket{{1, 5}, {2, 10}, {inf, 10}}, 0.9, 1.8},
		// The first bucket's lower edge is 0.
		{"first bucket", []bucket{{0.1, 10}, {inf, 10}}, 0.5, 0.05},
		// A quantile in the +Inf bucket is the largest finite bound.
		{"in +Inf", []bucket{{1, 5}, {inf, 10}}, 0.99, 1},
		// Empty buckets below are skipped over.
		{"empty buckets below", []bucket{{1, 0}, {2, 0}, {4, 4}, {inf, 4}}, 0.5, 3},
		// Without any finite bound nothing can be said.
		{"only +Inf", []bucket{{inf, 3}}, 0.5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := histo{buckets: tc.buckets, count: tc.buckets[len(tc.buckets)-1].count}
			if got := h.quantile(tc.q); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// expo renders a small exposition with one counter and one histogram per
// engine: engines[i] = {counter, bucket ≤0.1, bucket ≤1, count, sum}.
func expo(engines ...[5]float64) string {
	var b strings.Builder
	b.WriteString("# TYPE vllm:prompt_tokens_total counter\n")
	for i, e := range engines {
		fmt.Fprintf(&b, "vllm:prompt_tokens_total{engine=\"%d\"} %v\n", i, e[0])
	}
	b.WriteString("# TYPE vllm:e2e_request_latency_seconds histogram\n")
	for i, e := range engines {
		fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_bucket{engine=\"%d\",le=\"0.1\"} %v\n", i, e[1])
		fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_bucket{engine=\"%d\",le=\"1.0\"} %v\n", i, e[2])
		fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_bucket{engine=\"%d\",le=\"+Inf\"} %v\n", i, e[3])
		fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_count{engine=\"%d\"} %v\n", i, e[3])
		fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_sum{engine=\"%d\"} %v\n", i, e[4])
	}
	return b.String()
}

func TestSince_cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		before, after string // "" before = nil snapshot
		prompt        float64
		e2eCount      float64
		e2eMeanMs     float64
	}{
		// Two data-parallel engines are summed series by series.
		{"two engines", expo([5]float64{100, 1, 2, 2, 0.5}, [5]float64{50, 0, 1, 1, 0.5}),
			expo([5]float64{300, 3, 4, 4, 1.5}, [5]float64{150, 2, 3, 3, 1.5}), 300, 4, 500},
		// A counter that went down means the server restarted: the after
		// values are the whole interval.
		{"counter reset", expo([5]float64{1000, 9, 9, 9, 9}), expo([5]float64{40, 1, 2, 2, 0.4}), 40, 2, 200},
		// No before snapshot: everything since the server started.
		{"no before", "", expo([5]float64{70, 1, 1, 1, 0.05}), 70, 1, 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var before *Snapshot
			if tc.before != "" {
				var err error
				if before, err = ParseMetrics(strings.NewReader(tc.before)); err != nil {
					t.Fatal(err)
				}
			}
			after, err := ParseMetrics(strings.NewReader(tc.after))
			if err != nil {
				t.Fatal(err)
			}
			m := after.Since(before)
			if m.PromptTokens == nil || *m.PromptTokens != tc.prompt {
				t.Errorf("prompt tokens = %v, want %v", m.PromptTokens, tc.prompt)
			}
			if m.E2E == nil || m.E2E.Count != tc.e2eCount || math.Abs(m.E2E.MeanMs-tc.e2eMeanMs) > 1e-9 {
				t.Errorf("e2e = %+v, want count %v mean %v ms", m.E2E, tc.e2eCount, tc.e2eMeanMs)
			}
			// Metrics the server does not export stay absent.
			if m.TTFT != nil || m.GenerationTokens != nil || m.RequestsFinished != nil || m.PrefixCacheHitRate != nil {
				t.Errorf("absent metrics were filled: %+v", m)
			}
		})
	}
}

func TestSince_noObservations(t *testing.T) {
	t.Parallel()
	s := parseFile(t, "metrics_after.txt")
	// The same scrape twice: zero deltas, no histogram summaries (no
	// requests), no hit rate (no queries).
	m := s.Since(s)
	if *m.PromptTokens != 0 || m.TTFT != nil || m.PrefixCacheHitRate != nil {
		t.Errorf("Since(self) = prompt %v, ttft %+v, hit rate %v; want 0, nil, nil", *m.PromptTokens, m.TTFT, m.PrefixCacheHitRate)
	}
}

func TestScrape(t *testing.T) {
	t.Parallel()
	exposition, err := os.ReadFile(filepath.Join("testdata", "metrics_after.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr error  // errors.Is
		errText string // in the message
	}{
		// vLLM's /metrics.
		{"ok", http.StatusOK, string(exposition), nil, ""},
		// A server without /metrics is fine: ErrNoMetrics, not a failure.
		{"no metrics", http.StatusNotFound, "404 page not found", ErrNoMetrics, ""},
		// A broken server is an error that names the URL.
		{"server error", http.StatusInternalServerError, "boom", nil, "/metrics: 500 Internal Server Error"},
		// Garbage is a parse error.
		{"malformed", http.StatusOK, "vllm:x{le=\"1\" 3\n", nil, "parse metrics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/metrics" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			s, err := Scrape(context.Background(), srv.Client(), srv.URL+"/")
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.errText != "":
				if err == nil {
					t.Fatal("no error")
				}
				contains(t, "error", err.Error(), tc.errText)
			default:
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := s.Sum("vllm:num_requests_waiting"); !ok || v != 5 {
					t.Errorf("waiting = %v, %t; want 5", v, ok)
				}
			}
		})
	}
}

func FuzzParseMetrics(f *testing.F) {
	// Small seeds keep the fuzzer fast (it minimises every new input): the
	// head of a real exposition (counters, gauges) and a small histogram.
	b, err := os.ReadFile(filepath.Join("testdata", "metrics_after.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:bytes.Index(b, []byte("# HELP vllm:iteration_tokens_total"))])
	f.Add([]byte(expo([5]float64{1, 2, 1, 3, 0.5})))
	f.Add([]byte(expo([5]float64{9, 1, 1, 1, 0.1}, [5]float64{2, 0, 3, 4, 8})))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseMetrics(bytes.NewReader(data))
		if err != nil {
			return
		}
		m := s.Since(nil)
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("ServerMetrics does not marshal: %v", err)
		}
		for _, h := range []*schema.HistogramSummary{m.TTFT, m.QueueTime, m.E2E, m.Prefill} {
			if h == nil {
				continue
			}
			for _, v := range []float64{h.Count, h.P50Ms, h.P90Ms, h.P99Ms} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("summary %+v has a non-finite value", h)
				}
			}
			if h.P50Ms > h.P90Ms || h.P90Ms > h.P99Ms {
				t.Fatalf("quantiles out of order: %+v", h)
			}
		}
		if z := s.Since(s); z.PromptTokens != nil && *z.PromptTokens != 0 {
			t.Fatalf("Since(self) prompt tokens = %v, want 0", *z.PromptTokens)
		}
	})
}
