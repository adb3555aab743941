package schema

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Moments are the exact count, mean, variance (M2, the sum of squared
// deviations, as Welford's method keeps it), minimum and maximum of a
// metric's values in µs. A metric's percentiles come from its histogram;
// these come from the values themselves.
type Moments struct {
	N        int64
	Mean, M2 float64
	Min, Max int64
}

// Add adds one value.
func (m *Moments) Add(v int64) {
	if m.N == 0 || v < m.Min {
		m.Min = v
	}
	if v > m.Max {
		m.Max = v
	}
	m.N++
	d := float64(v) - m.Mean
	m.Mean += d / float64(m.N)
	m.M2 += d * (float64(v) - m.Mean)
}

// Merge adds the values o summarises (Chan, Golub and LeVeque's pairwise
// combination): the result is what Add would give for both sets of
// values, up to floating-point rounding.
func (m *Moments) Merge(o Moments) {
	switch {
	case o.N == 0:
		return
	case m.N == 0:
		*m = o
		return
	}
	n := m.N + o.N
	d := o.Mean - m.Mean
	m.M2 += o.M2 + d*d*float64(m.N)*float64(o.N)/float64(n)
	m.Mean += d * float64(o.N) / float64(n)
	m.Min, m.Max, m.N = min(m.Min, o.Min), max(m.Max, o.Max), n
}

// MomentsOf recovers the moments a Stats was made from (StatsOf), from
// its milliseconds.
func MomentsOf(s Stats) Moments {
	if s.Count == 0 {
		return Moments{}
	}
	std := s.Std * 1e3
	return Moments{N: s.Count, Mean: s.Mean * 1e3, M2: std * std * float64(s.Count),
		Min: int64(math.Round(s.Min * 1e3)), Max: int64(math.Round(s.Max * 1e3))}
}

// StatsOf summarises a metric in milliseconds: the exact mean, population
// standard deviation (numpy's default), minimum and maximum from m; the
// median and percentiles from the HDR histogram h of the same values
// (HistDigits significant digits), each clamped to the exact extremes, so
// that no percentile exceeds the maximum (an HDR percentile is the highest
// value equivalent to its bucket).
func StatsOf(h *hdr.Histogram, m Moments) Stats {
	if m.N == 0 {
		return Stats{}
	}
	ms := func(v int64) float64 { return float64(v) / 1e3 }
	pct := func(p float64) float64 { return ms(min(max(h.ValueAtPercentile(p), m.Min), m.Max)) }
	return Stats{
		Count:  m.N,
		Mean:   m.Mean / 1e3,
		Median: pct(50),
		Std:    math.Sqrt(m.M2/float64(m.N)) / 1e3,
		Min:    ms(m.Min),
		Max:    ms(m.Max),
		P50:    pct(50),
		P90:    pct(90),
		P95:    pct(95),
		P99:    pct(99),
		P999:   pct(99.9),
	}
}
