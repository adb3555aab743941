package merge

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/schema"
	_ "loadgen/loadgen/testkit" // -update: go test ./... -update passes it to every test binary
	"loadgen/server/servertest"
)

// client is one synthetic client's raw values, per metric (µs).
type client struct {
	index  int
	start  time.Time
	dur    float64
	values map[string][]int64
}

// share builds a client's phase result and .hlog intervals the way the
// engine does: exact moments, an HDR histogram per metric, one interval
// per second of values.
func (c client) share(t *testing.T, n int) Share {
	t.Helper()
	r := &schema.PhaseResult{
		SchemaVersion: schema.PhaseSchemaVersion, Simulated: true, Config: "a", Phase: "poisson-4", ModelID: "m",
		Arrival: schema.ArrivalPoisson, RequestRate: schema.Rate(4.0 / float64(n)), Burstiness: 1, Seed: int64(100 + c.index),
		StartedAt: c.start, EndedAt: c.start.Add(time.Duration(c.dur * float64(time.Second))), EndReason: schema.EndCompleted,
		Duration: c.dur, Completed: len(c.values[schema.MetricTTFT]), Failed: c.index, QueriesCompleted: len(c.values[schema.MetricQueryLatency]),
		TotalInputTokens: 1000, TotalOutputTokens: 10, AchievedRate: 4.0 / float64(n), LateArrivals: c.index,
		Errors:  map[string]schema.ErrorCount{"timeout": {Count: c.index, Sample: "slow"}},
		Client:  &schema.ClientShare{Part: schema.Part{Index: c.index, Count: n}, Rate: 4, Seed: 7},
		Latency: map[string]schema.Stats{},
	}
	var buf bytes.Buffer
	w := schema.NewHlogWriter(&buf, c.start, true, "poisson-4")
	for _, m := range schema.Metrics {
		var mom schema.Moments
		h, iv := schema.NewHist(), schema.NewHist()
		for i, v := range c.values[m] {
			mom.Add(v)
			_ = h.RecordValue(v)
			_ = iv.RecordValue(v)
			if i%50 == 49 { // an interval every 50 values
				w.Interval([]*hdr.Histogram{iv}, []string{m}, time.Duration(i)*time.Millisecond, time.Duration(i+50)*time.Millisecond)
			}
		}
		w.Interval([]*hdr.Histogram{iv}, []string{m}, time.Second, 2*time.Second)
		r.Latency[m] = schema.StatsOf(h, mom)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	ivs, err := schema.ReadHlogIntervals(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return Share{Result: r, Intervals: ivs}
}

func synthetic(n int, seed uint64) []client {
	rng := rand.New(rand.NewPCG(seed, 1))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var cs []client
	for i := range n {
		c := client{index: i, start: t0.Add(time.Duration(i) * 300 * time.Millisecond), dur: 10 + float64(i), values: map[string][]int64{}}
		for _, m := range schema.Metrics {
			k := 200 + 37*i
			for range k {
				c.values[m] = append(c.values[m], int64(rng.ExpFloat64()*float64(5000*(i+1)))+1)
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// TestSharesExact merges three clients and checks the merged phase against
// the union of their raw values: counts and extremes exactly, mean and
// standard deviation to rounding, percentiles within HDR precision.
func TestSharesExact(t *testing.T) {
	cs := synthetic(3, 1)
	var shares []Share
	for _, c := range slices.Backward(cs) { // any order
		shares = append(shares, c.share(t, 3))
	}
	got, err := Shares(shares, false)
	if err != nil {
		t.Fatal(err)
	}
	r := got.Result
	for _, m := range schema.Metrics {
		var all []int64
		for _, c := range cs {
			all = append(all, c.values[m]...)
		}
		slices.Sort(all)
		st := r.Latency[m]
		var sum, sq float64
		for _, v := range all {
			sum += float64(v)
		}
		mean := sum / float64(len(all))
		for _, v := range all {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		if st.Count != int64(len(all)) || st.Min != float64(all[0])/1e3 || st.Max != float64(all[len(all)-1])/1e3 {
			t.Errorf("%s: count %d min %g max %g, want %d %g %g", m, st.Count, st.Min, st.Max, len(all), float64(all[0])/1e3, float64(all[len(all)-1])/1e3)
		}
		if math.Abs(st.Mean-mean/1e3) > 1e-9*mean || math.Abs(st.Std-math.Sqrt(sq/float64(len(all)))/1e3) > 1e-9*mean {
			t.Errorf("%s: mean %g std %g, want %g %g", m, st.Mean, st.Std, mean/1e3, math.Sqrt(sq/float64(len(all)))/1e3)
		}
		servertest.CheckStats(t, m, st, all)
	}
	if r.Completed != 200+237+274 || r.Failed != 0+1+2 || r.TotalInputTokens != 3000 || r.Errors["timeout"].Count != 3 {
		t.Errorf("totals: completed %d failed %d input tokens %d timeouts %d", r.Completed, r.Failed, r.TotalInputTokens, r.Errors["timeout"].Count)
	}
	// Windows [0, 10], [0.3, 11.3], [0.6, 12.6]: their union is 12.6 s.
	if math.Abs(r.Duration-12.6) > 1e-9 || math.Abs(r.RequestThroughput-711/12.6) > 1e-9 {
		t.Errorf("duration %g throughput %g, want 12.6 and %g", r.Duration, r.RequestThroughput, 711/12.6)
	}
	if r.RequestRate != 4 || r.Seed != 7 || r.Client != nil || len(r.Clients) != 3 || r.Clients[2].Index != 2 || r.Clients[2].LateArrivals != 2 {
		t.Errorf("rate %v seed %d client %v clients %+v: want the phase's rate and seed and each client's figures", r.RequestRate, r.Seed, r.Client, r.Clients)
	}
	if lag := r.Clients[1].ScheduleLag; lag.Count != 237 || lag.P99 != shares[1].Result.Latency[schema.MetricScheduleLag].P99 {
		t.Errorf("client 1's schedule lag %+v is not its own", lag)
	}
	var n int64
	for _, h := range got.Intervals {
		if h.Tag() == schema.MetricTTFT {
			n += h.TotalCount()
		}
	}
	if n != 711 || !slices.IsSortedFunc(got.Intervals, func(a, b *hdr.Histogram) int { return int(a.StartTimeMs() - b.StartTimeMs()) }) {
		t.Errorf("the merged intervals hold %d ttft values (want 711) or are out of order", n)
	}
}

func TestSharesRefused(t *testing.T) {
	cs := synthetic(2, 2)
	tests := []struct {
		name    string
		edit    func(a, b *Share)
		partial bool
		want    string
	}{
		{"another phase", func(a, b *Share) { b.Result.Phase = "sync" }, false, "not a share of the same phase"},
		{"another seed", func(a, b *Share) { b.Result.Client.Seed = 8 }, false, "not a share of the same phase"},
		{"twice", func(a, b *Share) { b.Result.Client.Index = 0 }, false, "given twice"},
		{"not a share", func(a, b *Share) { b.Result.Client = nil }, false, "not a client's share"},
		{"a share missing", func(a, b *Share) { a.Result.Client.Count, b.Result.Client.Count = 3, 3 }, false, "missing clients [2]"},
		{"damaged hlog", func(a, b *Share) { b.Intervals = b.Intervals[1:] }, false, "a .hlog is missing or damaged"},
	}
	for _, tt := range tests {
		a, b := cs[0].share(t, 2), cs[1].share(t, 2)
		tt.edit(&a, &b)
		_, err := Shares([]Share{a, b}, tt.partial)
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want ErrMismatch containing %q", tt.name, err, tt.want)
		}
	}
	// With partial, a missing share is said, not refused.
	a, b := cs[0].share(t, 2), cs[1].share(t, 2)
	a.Result.Client.Count, b.Result.Client.Count = 3, 3
	got, err := Shares([]Share{a, b}, true)
	if err != nil || !strings.Contains(strings.Join(got.Result.Warnings, "\n"), "merged from 2 of 3 clients (missing [2])") {
		t.Errorf("partial merge: %v, warnings %q", err, got.Result.Warnings)
	}
}
