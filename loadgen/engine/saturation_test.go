package engine

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

// fifoRun is a synthetic phase: arrivals served one at a time in order,
// each taking its service time. It returns the finish times.
func fifoRun(arrivals, service []time.Duration) []time.Duration {
	fin := make([]time.Duration, len(arrivals))
	free := time.Duration(0)
	for i, a := range arrivals {
		start := max(a, free)
		fin[i] = start + service[i]
		free = fin[i]
	}
	return fin
}

// feed plays a synthetic phase into a detector, interval by interval (and
// query by query for the exact rule), and returns the first evidence and
// the number of queries finished by then.
func feed(d *satDetector, arrivals, finish []time.Duration, latency time.Duration, until time.Duration) (*schema.Saturation, int) {
	order := make([]int, len(arrivals))
	for i := range order {
		order[i] = i
	}
	// Finish order: by finish time (FIFO keeps it, bursts too).
	done := 0
	count := func(t time.Duration) satTick {
		tk := satTick{At: t}
		for _, a := range arrivals {
			if a <= t {
				tk.Due++
			}
			if latency > 0 && a <= t-latency {
				tk.Old++
			}
		}
		tk.Dispatched = tk.Due
		tk.Finished = done
		return tk
	}
	for t := time.Second; t <= until; t += time.Second {
		for _, i := range order {
			if finish[i] > t-time.Second && finish[i] <= t {
				d.finished(arrivals[i], finish[i]-arrivals[i], false)
				done++
				if ev := d.check(count(finish[i])); ev != nil {
					return ev, done
				}
			}
		}
		if ev := d.tick(count(t)); ev != nil {
			return ev, done
		}
	}
	return nil, done
}

func constService(n int, s time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func poissonArrivals(n int, rate float64, seed uint64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]time.Duration, n)
	t := 0.0
	for i := range out {
		t += rng.ExpFloat64() / rate
		out[i] = seconds(t)
	}
	return out
}

// TestSaturationGrowth: the queue-growth rule fires on a phase driven past
// capacity and stays quiet on bursty phases below it.
func TestSaturationGrowth(t *testing.T) {
	sec := time.Second
	burst := func(size int, every time.Duration, n int) []time.Duration {
		out := make([]time.Duration, 0, n)
		for b := time.Duration(1); len(out) < n; b++ {
			for i := 0; i < size && len(out) < n; i++ {
				out = append(out, b*every)
			}
		}
		return out
	}
	cases := []struct {
		name     string
		arrivals []time.Duration
		service  time.Duration
		slo      time.Duration
		fire     bool
	}{
		// 2 q/s into a server of 1 q/s: the queue grows by 1 q/s and the
		// latency passes 3 × 2 s after about 12 s.
		{"saturated poisson", poissonArrivals(200, 2, 1), sec, 2 * sec, true},
		// The same without a latency SLO: growth alone, over twice the span.
		{"saturated, no slo", poissonArrivals(200, 2, 1), sec, 0, true},
		// 10 queries at once every 10 s into 2 q/s: the queue fills to 10
		// and drains in 5 s, every time; latency reaches 5 s, within 3 × 2 s.
		{"bursty below capacity", burst(10, 10*sec, 120), sec / 2, 2 * sec, false},
		// The same bursts with a 0.5 s SLO: latency is past 3 × the SLO
		// at every burst, but the queue does not grow over the window.
		{"bursty, latency past the multiple", burst(10, 10*sec, 120), sec / 2, sec / 2, false},
		// Past capacity, but with a generous SLO: the queue grows, the
		// latency stays within 3 × the SLO for the whole phase.
		{"growing, latency within", poissonArrivals(200, 2, 1), sec, 100 * sec, false},
		// 30 at once every 30 s: a queue of 30 takes 15 s to drain, half
		// the window; it is draining whenever its floor looks high.
		{"long bursts", burst(30, 30*sec, 150), sec / 2, sec / 2, false},
		// Bursts past capacity (15 every 5 s into 2 q/s): the queue grows
		// by 1 q/s under the bursts.
		{"bursty past capacity", burst(15, 5*sec, 300), sec / 2, 2 * sec, true},
		// Poisson at 80% of capacity: random queueing, no trend.
		{"poisson at 80%", poissonArrivals(400, 1.6, 2), sec / 2, 2 * sec, false},
	}
	for _, tc := range cases {
		d := newSatDetector(SaturationStop{Latency: tc.slo}, len(tc.arrivals))
		fin := fifoRun(tc.arrivals, constService(len(tc.arrivals), tc.service))
		ev, _ := feed(d, tc.arrivals, fin, tc.slo, 100*sec)
		t.Logf("%s: %+v", tc.name, ev)
		if (ev != nil) != tc.fire {
			t.Errorf("%s: fired %v, want %v (evidence %+v)", tc.name, ev != nil, tc.fire, ev)
			continue
		}
		if ev == nil {
			continue
		}
		if ev.Reason != schema.SaturatedGrowth || ev.QueueSlope <= 0 || ev.QueueSlopeCI >= ev.QueueSlope || ev.Evidence == "" {
			t.Errorf("%s: evidence %+v", tc.name, ev)
		}
		if tc.slo > 0 && ev.RecentLatency <= 3*tc.slo.Seconds() {
			t.Errorf("%s: fired with recent latency %.2f s, not past 3 × %v", tc.name, ev.RecentLatency, tc.slo)
		}
		if ev.At < DefaultSaturationSpan.Seconds() {
			t.Errorf("%s: fired at %.1f s, before the least span", tc.name, ev.At)
		}
	}
}

// TestSaturationExact: with Exact, the phase stops as soon as more queries
// are certain to miss the SLO than it allows, and not before.
func TestSaturationExact(t *testing.T) {
	sec := time.Second
	type event struct {
		scheduled, latency time.Duration
		failed             bool
	}
	cases := []struct {
		name    string
		cfg     SaturationStop
		planned int
		events  []event
		tick    satTick // counts after the events
		fire    bool
	}{
		// p99 of 20 queries is their maximum: one query over 2 s fails it.
		{"one over, 20 planned", SaturationStop{Latency: 2 * sec, Exact: true}, 20,
			[]event{{sec, 3 * sec, false}}, satTick{At: 4 * sec, Due: 5, Dispatched: 5, Finished: 1}, true},
		// p99 of 200 queries allows two over; two are not enough.
		{"two over, 200 planned", SaturationStop{Latency: 2 * sec, Exact: true}, 200,
			[]event{{sec, 3 * sec, false}, {2 * sec, 3 * sec, false}}, satTick{At: 5 * sec, Due: 8, Dispatched: 8, Finished: 2}, false},
		// A third one is.
		{"three over, 200 planned", SaturationStop{Latency: 2 * sec, Exact: true}, 200,
			[]event{{sec, 3 * sec, false}, {2 * sec, 3 * sec, false}, {3 * sec, 3 * sec, false}}, satTick{At: 6 * sec, Due: 8, Dispatched: 8, Finished: 3}, true},
		// Nothing finished, but a query due at 1 s is still running at
		// 3.5 s: it is already older than 2 s.
		{"censored", SaturationStop{Latency: 2 * sec, Exact: true}, 20,
			nil, satTick{At: 3500 * time.Millisecond, Due: 3, Old: 1, Dispatched: 3}, true},
		// The same without Exact: the growth rule needs its span.
		{"censored, not exact", SaturationStop{Latency: 2 * sec}, 20,
			nil, satTick{At: 3500 * time.Millisecond, Due: 3, Old: 1, Dispatched: 3}, false},
		// 10% of 20 may fail: two failures are allowed, a third is not.
		{"failures within budget", SaturationStop{MaxFailed: 0.1, Exact: true}, 20,
			[]event{{sec, sec, true}, {2 * sec, sec, true}}, satTick{At: 4 * sec, Due: 4, Dispatched: 4, Finished: 2}, false},
		{"failures over budget", SaturationStop{MaxFailed: 0.1, Exact: true}, 20,
			[]event{{sec, sec, true}, {2 * sec, sec, true}, {3 * sec, sec, true}}, satTick{At: 5 * sec, Due: 5, Dispatched: 5, Finished: 3}, true},
		// Queries that finished within the SLO are not misses, however
		// many are due.
		{"all within", SaturationStop{Latency: 2 * sec, Exact: true}, 20,
			[]event{{sec, sec, false}, {2 * sec, sec, false}}, satTick{At: 5 * sec, Due: 3, Old: 2, Dispatched: 3, Finished: 2}, false},
	}
	for _, tc := range cases {
		d := newSatDetector(tc.cfg, tc.planned)
		for _, e := range tc.events {
			d.finished(e.scheduled, e.latency, e.failed)
		}
		ev := d.check(tc.tick)
		if (ev != nil) != tc.fire {
			t.Errorf("%s: fired %v, want %v (%+v)", tc.name, ev != nil, tc.fire, ev)
			continue
		}
		if ev != nil && (ev.Reason != schema.SaturatedSLOMiss || ev.Misses <= ev.AllowedMisses || ev.Evidence == "") {
			t.Errorf("%s: evidence %+v", tc.name, ev)
		}
	}
}

// TestSaturationExactSeries: on a synthetic phase past capacity, the exact
// rule stops it at the first query older than the SLO (20 planned: p99 is
// the maximum), long before the phase would have ended.
func TestSaturationExactSeries(t *testing.T) {
	sec := time.Second
	arr := poissonArrivals(20, 2, 3)
	fin := fifoRun(arr, constService(20, sec))
	d := newSatDetector(SaturationStop{Latency: 2 * sec, Exact: true}, 20)
	ev, done := feed(d, arr, fin, 2*sec, 60*sec)
	if ev == nil || ev.Reason != schema.SaturatedSLOMiss {
		t.Fatalf("evidence %+v", ev)
	}
	if ev.At > fin[len(fin)-1].Seconds()/2 || done >= 20 {
		t.Errorf("stopped at %.1f s after %d queries; the phase ends at %.1f s", ev.At, done, fin[len(fin)-1].Seconds())
	}
}

// TestAllowedMisses: how many queries may miss a percentile SLO, as the
// HDR histogram ranks the percentile.
func TestAllowedMisses(t *testing.T) {
	cases := []struct {
		n    int
		p    float64
		want int
	}{
		{1, 99, 0},     // one value is every percentile
		{20, 99, 0},    // p99 of 20 is the maximum
		{50, 99, 0},    // round(49.5) = 50: still the maximum
		{100, 99, 1},   // the 99th of 100
		{1000, 99, 10}, // 990th of 1000
		{1000, 99.9, 1},
		{20, 50, 10}, // the median of 20 is the 10th
	}
	for _, tc := range cases {
		if got := AllowedMisses(tc.n, tc.p); got != tc.want {
			t.Errorf("AllowedMisses(%d, %g) = %d, want %d", tc.n, tc.p, got, tc.want)
		}
	}
	if got := AllowedFailures(100, 0.01); got != 1 {
		t.Errorf("AllowedFailures(100, 1%%) = %d, want 1", got)
	}
	if got := tCrit95(10); math.Abs(got-2.228) > 0.02 {
		t.Errorf("tCrit95(10) = %.3f, want 2.228", got)
	}
}
