package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRegGammaP(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, x, want float64 }{
		{1, 0.5, 1 - math.Exp(-0.5)},         // k=1 is exponential
		{1, 3, 1 - math.Exp(-3)},             // continued-fraction branch
		{2, 1, 1 - 2*math.Exp(-1)},           // P(2,x) = 1 − e^−x (1+x)
		{2, 5, 1 - 6*math.Exp(-5)},           // same, other branch
		{0.5, 0.5, math.Erf(math.Sqrt(0.5))}, // P(½,x) = erf(√x)
		{0.5, 4, math.Erf(2)},                // same, other branch
		{3, 2, 1 - math.Exp(-2)*(1+2+2)},     // P(3,x) = 1 − e^−x (1+x+x²/2)
	}
	for _, tc := range tests {
		if got := regGammaP(tc.a, tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("P(%v,%v) = %v, want %v", tc.a, tc.x, got, tc.want)
		}
	}
}

func TestKolmogorovQ(t *testing.T) {
	t.Parallel()
	// Critical values of Kolmogorov's distribution.
	tests := []struct{ lambda, want float64 }{{1.358, 0.05}, {1.628, 0.01}, {1.224, 0.10}, {0.1, 1}}
	for _, tc := range tests {
		if got := kolmogorovQ(tc.lambda); math.Abs(got-tc.want) > 1e-3 {
			t.Errorf("Q(%v) = %v, want %v", tc.lambda, got, tc.want)
		}
	}
}

func TestKSTest(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	exp := make([]float64, 5000)
	for i := range exp {
		exp[i] = rng.ExpFloat64() / 3
	}
	// The right distribution passes, the wrong rate is rejected.
	if _, p := KSTest(exp, ExpCDF(3)); p < 0.01 {
		t.Errorf("exp(3) sample against exp(3): p = %v", p)
	}
	if _, p := KSTest(exp, ExpCDF(3.3)); p > 1e-4 {
		t.Errorf("exp(3) sample against exp(3.3): p = %v, want rejection", p)
	}
	if d, p := KSTest(nil, ExpCDF(1)); d != 0 || p != 1 {
		t.Errorf("empty sample: %v %v", d, p)
	}
}

// TestKSTestAbove checks the test at a resolution: a sample whose short
// gaps a single sender stretched (every gap under 5 ms became 5 ms, the next
// one shortened by as much) fails the plain test and passes above 10 ms;
// a sample of the wrong rate fails both.
func TestKSTestAbove(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	sent := make([]float64, 20000)
	carry := 0.0
	for i := range sent {
		g := rng.ExpFloat64()/10 - carry
		carry = 0
		if g < 0.005 {
			g, carry = 0.005, 0.005-g
		}
		sent[i] = g
	}
	if _, p := KSTest(sent, ExpCDF(10)); p > 1e-4 {
		t.Errorf("stretched sample, plain test: p = %v, want rejection", p)
	}
	if _, p, n := KSTestAbove(sent, ExpCDF(10), 0.01); p < 0.01 || n < 15000 {
		t.Errorf("stretched sample above 10 ms: p = %v over %d gaps, want a pass over about 18000", p, n)
	}
	wrong := make([]float64, 20000)
	for i := range wrong {
		wrong[i] = rng.ExpFloat64() / 11
	}
	if _, p, _ := KSTestAbove(wrong, ExpCDF(10), 0.01); p > 1e-4 {
		t.Errorf("exp(11) sample above 10 ms against exp(10): p = %v, want rejection", p)
	}
}
