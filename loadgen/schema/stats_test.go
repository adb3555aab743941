package schema

import (
	"math"
	"math/rand/v2"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestMomentsMerge checks that merging the moments of two sets of values
// gives the moments of their union, and that the moments survive Stats.
func TestMomentsMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		a, b int
	}{
		{"both", 1000, 300},   // two clients
		{"empty left", 0, 10}, // a client that completed nothing
		{"empty right", 10, 0},
		{"one each", 1, 1},
	}
	for _, tt := range tests {
		var a, b, all Moments
		ha, hb, hall := NewHist(), NewHist(), NewHist()
		for i := range tt.a + tt.b {
			v := int64(rng.ExpFloat64()*20000) + 1
			if i < tt.a {
				a.Add(v)
				_ = ha.RecordValue(v)
			} else {
				b.Add(v)
				_ = hb.RecordValue(v)
			}
			all.Add(v)
			_ = hall.RecordValue(v)
		}
		m := MomentsOf(StatsOf(ha, a))
		m.Merge(MomentsOf(StatsOf(hb, b)))
		if m.N != all.N || m.Min != all.Min || m.Max != all.Max {
			t.Errorf("%s: merged n/min/max %d/%d/%d, want %d/%d/%d", tt.name, m.N, m.Min, m.Max, all.N, all.Min, all.Max)
		}
		if all.N > 0 && (!near(m.Mean, all.Mean) || !near(m.M2, all.M2)) {
			t.Errorf("%s: merged mean %g M2 %g, want %g %g", tt.name, m.Mean, m.M2, all.Mean, all.M2)
		}
		h, err := MergeHists([]*hdr.Histogram{ha, hb})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := StatsOf(h, m), StatsOf(hall, all); got.P99 != want.P99 || got.P50 != want.P50 || got.P999 != want.P999 || got.Count != want.Count {
			t.Errorf("%s: merged stats %+v, want %+v", tt.name, got, want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
