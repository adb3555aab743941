package engine

import (
	"context"
	"math"
	"slices"

	"loadgen/loadgen/schema"
)

// KSTest runs a one-sample Kolmogorov–Smirnov test of sample against the
// continuous distribution function cdf. It returns the statistic D (the
// largest distance between the empirical and the given CDF) and its
// asymptotic p-value (Kolmogorov's distribution with Stephens' small-sample
// correction). A p-value below 0.01 rejects the distribution. sample is
// not modified.
func KSTest(sample []float64, cdf func(float64) float64) (d, p float64) {
	n := len(sample)
	if n == 0 {
		return 0, 1
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	fn := float64(n)
	for i, x := range s {
		f := cdf(x)
		d = max(d, float64(i+1)/fn-f, f-float64(i)/fn)
	}
	sq := math.Sqrt(fn)
	return d, kolmogorovQ((sq + 0.12 + 0.11/sq) * d)
}

// KSTestAbove is KSTest of the values of sample above floor against cdf
// conditioned on values above floor, (F(x) − F(floor)) / (1 − F(floor)): the
// shape of a distribution at a resolution of floor. It also returns how
// many values it tested.
func KSTestAbove(sample []float64, cdf func(float64) float64, floor float64) (d, p float64, n int) {
	var above []float64
	for _, x := range sample {
		if x > floor {
			above = append(above, x)
		}
	}
	f0 := cdf(floor)
	if f0 >= 1 {
		return 0, 1, 0
	}
	d, p = KSTest(above, func(x float64) float64 { return (cdf(x) - f0) / (1 - f0) })
	return d, p, len(above)
}

// kolmogorovQ is P(K > λ) for Kolmogorov's distribution:
// 2·Σ_{j≥1} (−1)^(j−1)·exp(−2j²λ²).
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	sum, sign := 0.0, 1.0
	for j := 1; j <= 100; j++ {
		term := sign * math.Exp(-2*float64(j*j)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-12*math.Abs(sum) {
			break
		}
		sign = -sign
	}
	return math.Min(math.Max(2*sum, 0), 1)
}

// ExpCDF is the distribution function of exponential gaps at rate r
// (Poisson arrivals).
func ExpCDF(r float64) func(float64) float64 {
	return func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return -math.Expm1(-r * x)
	}
}

// GammaCDF is the distribution function of Gamma(shape k, scale θ): the
// regularised lower incomplete gamma function P(k, x/θ).
func GammaCDF(k, theta float64) func(float64) float64 {
	return func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return regGammaP(k, x/theta)
	}
}

// regGammaP is P(a, x), by its series for x < a+1 and by a continued
// fraction for Q = 1−P otherwise (Numerical Recipes' gser and gcf).
func regGammaP(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, del, ap := 1/a, 1/a, a
		for range 1000 {
			ap++
			del *= x / ap
			sum += del
			if math.Abs(del) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return sum * math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i <= 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return 1 - math.Exp(-x+a*math.Log(x)-lg)*h
}

// Gaps returns the differences between successive offsets, in seconds,
// starting from 0 (so the first gap is the first offset, as in vLLM's
// schedule, where the first arrival is delayed too).
func Gaps(offsets []float64) []float64 {
	g := make([]float64, len(offsets))
	prev := 0.0
	for i, o := range offsets {
		g[i], prev = o-prev, o
	}
	return g
}

// ScheduleGaps returns the inter-arrival gaps (seconds) of the first n
// arrivals of a phase's schedule, the sample KSTest checks against ExpCDF
// or GammaCDF.
func ScheduleGaps(ph Phase, n int) []float64 {
	s, _ := NewSchedule(context.Background(), ph) // never canceled: no error
	var offs []float64
	for len(offs) < n {
		off, ok := s.Next()
		if !ok {
			break
		}
		offs = append(offs, off.Seconds())
	}
	return Gaps(offs)
}

// GapCDF returns the distribution function the gaps of an open-loop phase
// without a ramp should follow, or nil for constant (a point mass, which
// KSTest cannot judge; use MaxGapError) and inf.
func GapCDF(ph Phase) func(float64) float64 {
	r := float64(ph.Rate)
	switch ph.Arrival {
	case schema.ArrivalPoisson:
		return ExpCDF(r)
	case schema.ArrivalGamma:
		return GammaCDF(ph.Burstiness, 1/(r*ph.Burstiness))
	}
	return nil
}

// MaxGapError is the largest |gap − 1/r| of a constant schedule, seconds.
func MaxGapError(gaps []float64, r float64) float64 {
	m := 0.0
	for _, g := range gaps {
		m = max(m, math.Abs(g-1/r))
	}
	return m
}
