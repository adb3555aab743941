package servertest

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"loadgen/loadgen/schema"
)

// RequestLog is what the requests.jsonl files of a phase say about its
// measured requests (warmup left out): every query sent (query, cycle) and
// the TTFT and E2E of every request that succeeded, in µs as the engine's
// histograms hold them, sorted.
type RequestLog struct {
	Requests  int
	Queries   map[[2]int]int // (query, cycle) → requests sent for it
	TTFT, E2E []int64
}

// ReadRequestLogs reads requests.jsonl files (one per client of a phase)
// into one RequestLog: the union of their raw samples.
func ReadRequestLogs(t testing.TB, paths ...string) RequestLog {
	t.Helper()
	l := RequestLog{Queries: map[[2]int]int{}}
	us := func(ms *float64) int64 { return int64(math.Round(*ms * 1e3)) }
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r struct {
				Query, Cycle int
				Warmup       bool
				TTFT         *float64 `json:"ttft_ms"`
				E2E          *float64 `json:"e2el_ms"`
				ErrorKind    string   `json:"error_kind"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if r.Warmup {
				continue
			}
			l.Requests++
			l.Queries[[2]int{r.Query, r.Cycle}]++
			if r.ErrorKind == "" && r.TTFT != nil && r.E2E != nil {
				l.TTFT = append(l.TTFT, us(r.TTFT))
				l.E2E = append(l.E2E, us(r.E2E))
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(l.TTFT)
	slices.Sort(l.E2E)
	return l
}

// CheckLatency checks the TTFT and E2E statistics of a phase result
// against the raw samples of its request logs (CheckStats).
func CheckLatency(t testing.TB, res schema.PhaseResult, raw RequestLog) {
	t.Helper()
	CheckStats(t, schema.MetricTTFT, res.Latency[schema.MetricTTFT], raw.TTFT)
	CheckStats(t, schema.MetricE2EL, res.Latency[schema.MetricE2EL], raw.E2E)
}

// CheckStats checks the statistics st of metric against the raw values
// (µs, sorted) they were made from: st counts every value, and each of its
// percentiles is the raw one to the precision of an HDR histogram.
func CheckStats(t testing.TB, metric string, st schema.Stats, sorted []int64) {
	t.Helper()
	if st.Count != int64(len(sorted)) || len(sorted) == 0 {
		t.Errorf("%s: %d values counted, %d raw values; want the same, not none", metric, st.Count, len(sorted))
		return
	}
	for _, pc := range []struct {
		p   float64
		got float64
	}{{50, st.P50}, {90, st.P90}, {95, st.P95}, {99, st.P99}, {99.9, st.P999}} {
		if want := percentile(sorted, pc.p); !withinHDR(pc.got, want) {
			t.Errorf("%s p%g: %g ms, the raw values' %g ms", metric, pc.p, pc.got, want)
		}
	}
}

// percentile is the p-th percentile of sorted values in ms, at the rank an
// HDR histogram takes it (p/100·n rounded half up, within [1, n]).
func percentile(sorted []int64, p float64) float64 {
	k := min(max(int(p/100*float64(len(sorted))+0.5), 1), len(sorted))
	return float64(sorted[k-1]) / 1e3
}

// withinHDR reports whether an HDR percentile in ms (3 significant digits:
// a value's bucket spans at most 1/1000 of it) is the raw value in ms, to
// the histogram's precision and the µs the values are rounded to.
func withinHDR(hdr, raw float64) bool {
	return math.Abs(hdr-raw) <= raw*1e-3+1e-3
}
