package engine

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

func offsets(ph Phase, max int) []time.Duration {
	s, _ := NewSchedule(context.Background(), ph)
	var out []time.Duration
	for len(out) < max {
		off, ok := s.Next()
		if !ok {
			break
		}
		out = append(out, off)
	}
	return out
}

func TestScheduleTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ph   Phase
		want []time.Duration
	}{
		// Constant: T_i = (i+1)/r, the first arrival delayed by one gap.
		{"constant", Phase{Arrival: schema.ArrivalConstant, Rate: 4, Queries: 3}, []time.Duration{250 * ms, 500 * ms, 750 * ms}},
		// 1/3 s does not divide into ns: each offset is rounded, no drift.
		{"constant thirds", Phase{Arrival: schema.ArrivalConstant, Rate: 3, Queries: 3},
			[]time.Duration{333333333, 666666667, 1000 * ms}},
		// Duration-bounded: up to and including Duration.
		{"constant duration", Phase{Arrival: schema.ArrivalConstant, Rate: 2, Duration: 1500 * ms},
			[]time.Duration{500 * ms, 1000 * ms, 1500 * ms}},
		// Inf: everything due at once.
		{"inf", Phase{Arrival: schema.ArrivalInf, Queries: 3, MaxConcurrency: 1}, []time.Duration{0, 0, 0}},
		// A linear constant ramp 1→3/s over 3 arrivals: gaps 1/1, 1/2, 1/3.
		{"linear ramp", Phase{Arrival: schema.ArrivalConstant, Queries: 3, Ramp: &schema.Ramp{Strategy: schema.RampLinear, From: 1, To: 3}},
			[]time.Duration{1000 * ms, 1500 * ms, 1833333333}},
		// Exponential 1→4/s over 3 arrivals: rates 1, 2, 4.
		{"exponential ramp", Phase{Arrival: schema.ArrivalConstant, Queries: 3, Ramp: &schema.Ramp{Strategy: schema.RampExponential, From: 1, To: 4}},
			[]time.Duration{1000 * ms, 1500 * ms, 1750 * ms}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := offsets(tc.ph, 100)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("offset %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestRampRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    schema.Ramp
		p    float64
		want float64
	}{
		{schema.Ramp{Strategy: schema.RampLinear, From: 2, To: 10}, 0, 2},          // starts at From
		{schema.Ramp{Strategy: schema.RampLinear, From: 2, To: 10}, 0.5, 6},        // halfway
		{schema.Ramp{Strategy: schema.RampLinear, From: 2, To: 10}, 1, 10},         // ends at To
		{schema.Ramp{Strategy: schema.RampLinear, From: 10, To: 2}, 0.25, 8},       // ramps down too
		{schema.Ramp{Strategy: schema.RampExponential, From: 1, To: 100}, 0.5, 10}, // geometric midpoint
		{schema.Ramp{Strategy: schema.RampExponential, From: 1, To: 100}, 1, 100},  // ends at To
	}
	for _, tc := range tests {
		if got := RampRate(tc.r, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%+v at %v: %v, want %v", tc.r, tc.p, got, tc.want)
		}
	}
}

// TestScheduleNormalised checks vLLM's normalisation: without a ramp the
// last of N arrivals falls at N/rate exactly.
func TestScheduleNormalised(t *testing.T) {
	t.Parallel()
	for _, ph := range []Phase{
		{Arrival: schema.ArrivalPoisson, Rate: 7, Queries: 1000, Seed: 3},
		{Arrival: schema.ArrivalGamma, Rate: 7, Burstiness: 0.5, Queries: 1000, Seed: 3},
	} {
		offs := offsets(ph, 2000)
		if len(offs) != 1000 {
			t.Fatalf("%s: %d arrivals, want 1000", ph.Arrival, len(offs))
		}
		want := seconds(1000.0 / 7)
		if d := offs[999] - want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: last arrival at %v, want %v", ph.Arrival, offs[999], want)
		}
		for i := 1; i < len(offs); i++ {
			if offs[i] < offs[i-1] {
				t.Fatalf("%s: offsets decrease at %d", ph.Arrival, i)
			}
		}
	}
}

// TestScheduleSeeded checks reproducibility: one seed, one schedule.
func TestScheduleSeeded(t *testing.T) {
	t.Parallel()
	ph := Phase{Arrival: schema.ArrivalPoisson, Rate: 100, Queries: 50, Seed: 42}
	a, b := offsets(ph, 50), offsets(ph, 50)
	ph.Seed = 43
	c := offsets(ph, 50)
	same, differs := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differs = differs || a[i] != c[i]
	}
	if !same || !differs {
		t.Errorf("same seed identical: %v, other seed differs: %v", same, differs)
	}
}

// TestScheduleDistribution checks, with fixed seeds, that inter-arrival
// gaps pass a KS test for the requested distribution, and that constant
// gaps are exact.
func TestScheduleDistribution(t *testing.T) {
	t.Parallel()
	for _, ph := range []Phase{
		{Arrival: schema.ArrivalPoisson, Rate: 2000, Queries: 20000, Seed: 1},
		{Arrival: schema.ArrivalGamma, Rate: 2000, Burstiness: 0.5, Queries: 20000, Seed: 1},
		{Arrival: schema.ArrivalGamma, Rate: 2000, Burstiness: 4, Queries: 20000, Seed: 1},
		{Arrival: schema.ArrivalPoisson, Rate: 50, Duration: 200 * time.Second, Seed: 9},
	} {
		gaps := ScheduleGaps(ph, 20000)
		d, p := KSTest(gaps, GapCDF(ph))
		if p < 0.01 {
			t.Errorf("%s k=%v: KS D=%v p=%v, want p ≥ 0.01", ph.Arrival, ph.Burstiness, d, p)
		}
		// A wrong shape is rejected: the test has power.
		wrong := ph
		wrong.Arrival, wrong.Burstiness = schema.ArrivalGamma, ph.burstiness()*2
		if _, p := KSTest(gaps, GapCDF(wrong)); p > 1e-6 {
			t.Errorf("%s k=%v against k=%v: p=%v, want rejection", ph.Arrival, ph.burstiness(), wrong.Burstiness, p)
		}
	}
	ph := Phase{Arrival: schema.ArrivalConstant, Rate: 3000, Queries: 10000}
	if e := MaxGapError(ScheduleGaps(ph, 10000), 3000); e > 1.5e-9 {
		t.Errorf("constant: max gap error %v s, want ≤ 1.5 ns", e)
	}
}

func TestGammaRandMoments(t *testing.T) {
	t.Parallel()
	for _, k := range []float64{0.3, 1, 2.5} {
		rng := newRand(7)
		const n = 200000
		var sum, sq float64
		for range n {
			x := GammaRand(rng, k)
			sum += x
			sq += x * x
		}
		mean := sum / n
		v := sq/n - mean*mean
		if math.Abs(mean-k)/k > 0.02 || math.Abs(v-k)/k > 0.05 {
			t.Errorf("Gamma(%v): mean %v var %v, want %v and %v", k, mean, v, k, k)
		}
	}
}

// TestScheduleNormalisationCancels checks that the normalisation replay of
// a huge phase (10^12 arrivals: hours of work) gives up as soon as its
// context is done, however far it got.
func TestScheduleNormalisationCancels(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ph := Phase{Arrival: schema.ArrivalPoisson, Rate: 10, Queries: 1e12, Seed: 1}
	if s, err := NewSchedule(ctx, ph); !errors.Is(err, context.Canceled) || s != nil {
		t.Errorf("NewSchedule: %v, %v; want context.Canceled", s, err)
	}
}

// TestScheduleReplica checks that a replica yields the same offsets from
// the first arrival, normalisation included, without replaying it.
func TestScheduleReplica(t *testing.T) {
	t.Parallel()
	ph := Phase{Arrival: schema.ArrivalGamma, Rate: 7, Burstiness: 0.5, Queries: 50, Seed: 3}
	s, err := NewSchedule(context.Background(), ph)
	if err != nil {
		t.Fatal(err)
	}
	var want []time.Duration
	for off, ok := s.Next(); ok; off, ok = s.Next() {
		want = append(want, off)
	}
	r := s.Replica()
	for i, w := range want {
		if got, ok := r.Next(); !ok || got != w {
			t.Fatalf("replica arrival %d: %v, %v; want %v", i, got, ok, w)
		}
	}
	if _, ok := r.Next(); ok {
		t.Error("replica has more arrivals than the schedule")
	}
}

// TestSatWatchCancels checks that the saturation watch of a huge phase
// bounded by its duration (whose planned arrivals it counts) gives up at
// once when the phase is interrupted before it starts.
func TestSatWatchCancels(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ph := Phase{Arrival: schema.ArrivalPoisson, Rate: 1e6, Duration: 1000 * time.Hour, Seed: 1,
		Saturation: &SaturationStop{Latency: time.Second}}
	if w := newSatWatch(ctx, ph); w != nil {
		t.Error("newSatWatch counted a phase of 3.6e12 arrivals after the interrupt")
	}
}
