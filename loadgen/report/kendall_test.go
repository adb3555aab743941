package report

import (
	"errors"
	"math"
	"testing"
)

func TestKendallTauB(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
		want float64
		err  error
	}{
		// Same order: every pair concordant.
		{"identical", []float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1, nil},
		// Reversed: every pair discordant.
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1, nil},
		// One adjacent swap of 4: 5 concordant, 1 discordant, (5−1)/6.
		{"one swap", []float64{1, 2, 3, 4}, []float64{1, 2, 4, 3}, 4.0 / 6, nil},
		// The offline table against a run where the bottom two swap:
		// throughputs, not ranks; same answer as one swap.
		{"offline bottom swap", []float64{3.0975, 2.3225, 0.8718, 0.8151}, []float64{2.83, 2.2, 0.77, 0.82}, 4.0 / 6, nil},
		// A tie in x: n0=6, n1=1, n2=0, nc=5, nd=0 → 5/√(5·6).
		{"tie in x", []float64{1, 2, 2, 3}, []float64{1, 2, 3, 4}, 5 / math.Sqrt(30), nil},
		// Ties in both: nc=1, nd=1 → 0.
		{"ties in both", []float64{1, 1, 2, 2}, []float64{1, 2, 1, 2}, 0, nil},
		// Two pairs, same order.
		{"two", []float64{1, 2}, []float64{5, 6}, 1, nil},
		// One pair: no ranking to agree on.
		{"one", []float64{1}, []float64{1}, 0, ErrTooFewPairs},
		// None.
		{"empty", nil, nil, 0, ErrTooFewPairs},
		// Every x tied: 0/0.
		{"all tied", []float64{1, 1, 1}, []float64{1, 2, 3}, 0, ErrAllTied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KendallTauB(tc.x, tc.y)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("tau = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := KendallTauB([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("mismatched lengths must fail")
	}
}
