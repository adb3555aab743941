package server

import (
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"

	"loadgen/loadgen/schema"
)

// bucket is one cumulative histogram bucket.
type bucket struct {
	upper float64 // upper bound, seconds (+Inf for the last)
	count float64 // observations ≤ upper
}

// histo is a histogram merged over all series of a family.
type histo struct {
	buckets []bucket // sorted by upper
	count   float64
	sum     float64
}

// mergedHistogram sums the series of a histogram family bucket by bucket
// (vLLM labels them by model and engine; all share the same bounds).
func mergedHistogram(f *dto.MetricFamily) (histo, bool) {
	if f == nil {
		return histo{}, false
	}
	byUpper := make(map[float64]float64)
	var h histo
	found := false
	for _, m := range f.GetMetric() {
		hm := m.GetHistogram()
		if hm == nil {
			continue
		}
		found = true
		count, sum := floatOr(hm.SampleCountFloat, float64(hm.GetSampleCount())), hm.GetSampleSum()
		if !finite(count) || !finite(sum) {
			continue
		}
		h.count += count
		h.sum += sum
		for _, b := range hm.GetBucket() {
			c := floatOr(b.CumulativeCountFloat, float64(b.GetCumulativeCount()))
			if u := b.GetUpperBound(); !math.IsNaN(u) && finite(c) {
				byUpper[u] += c
			}
		}
	}
	for u, c := range byUpper {
		h.buckets = append(h.buckets, bucket{upper: u, count: c})
	}
	sort.Slice(h.buckets, func(i, j int) bool { return h.buckets[i].upper < h.buckets[j].upper })
	return h, found
}

// floatOr returns *p, or def when p is nil.
func floatOr(p *float64, def float64) float64 {
	if p != nil {
		return *p
	}
	return def
}

// histogramSince summarises the observations of histogram name between
// the two snapshots; nil when after lacks it or nothing was observed.
func histogramSince(before, after *Snapshot, name string) *schema.HistogramSummary {
	a, ok := mergedHistogram(after.family(name))
	if !ok {
		return nil
	}
	b, _ := mergedHistogram(before.family(name))
	d := a.minus(b)
	return d.summary()
}

// minus returns h−prev bucket by bucket. If any count went down the
// server restarted in between, and h alone is the interval.
func (h histo) minus(prev histo) histo {
	prevCount := make(map[float64]float64, len(prev.buckets))
	for _, b := range prev.buckets {
		prevCount[b.upper] = b.count
	}
	d := histo{count: h.count - prev.count, sum: h.sum - prev.sum}
	if d.count < 0 {
		return h
	}
	for _, b := range h.buckets {
		c := b.count - prevCount[b.upper]
		if c < 0 {
			return h
		}
		d.buckets = append(d.buckets, bucket{upper: b.upper, count: c})
	}
	return d
}

// summary returns count, mean and quantiles in milliseconds, or nil when
// the histogram holds no observation.
func (h histo) summary() *schema.HistogramSummary {
	if h.count <= 0 || len(h.buckets) == 0 {
		return nil
	}
	s := &schema.HistogramSummary{
		Count:  h.count,
		MeanMs: h.sum / h.count * 1000,
		P50Ms:  h.quantile(0.50) * 1000,
		P90Ms:  h.quantile(0.90) * 1000,
		P99Ms:  h.quantile(0.99) * 1000,
	}
	for _, v := range []float64{s.Count, s.MeanMs, s.P50Ms, s.P90Ms, s.P99Ms} {
		if !finite(v) {
			return nil // overflowing nonsense; nothing sensible to report
		}
	}
	return s
}

// quantile interpolates the q-quantile linearly within its bucket, as
// Prometheus' histogram_quantile does: the lower edge of the first bucket
// is 0 (when its bound is positive), and a quantile that falls in the
// +Inf bucket is the largest finite bound. With no finite bound at all the
// quantile is unknown and reported as 0.
func (h histo) quantile(q float64) float64 {
	bs := h.buckets
	// Cumulative counts must not decrease; repair rounding noise.
	monotone := make([]float64, len(bs))
	for i, b := range bs {
		monotone[i] = b.count
		if i > 0 && monotone[i] < monotone[i-1] {
			monotone[i] = monotone[i-1]
		}
	}
	total := monotone[len(bs)-1]
	if !math.IsInf(bs[len(bs)-1].upper, 1) || total <= 0 {
		total = max(total, h.count)
	}
	if total <= 0 {
		return 0
	}
	rank := q * total
	i := sort.Search(len(bs), func(i int) bool { return monotone[i] >= rank })
	switch {
	case i >= len(bs):
		i = len(bs) - 1
	case math.IsInf(bs[i].upper, 1):
		if i == 0 {
			return 0
		}
		return bs[i-1].upper
	}
	if i == 0 && bs[0].upper <= 0 {
		return bs[0].upper
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = bs[i-1].upper, monotone[i-1]
	}
	inBucket := monotone[i] - below
	if inBucket <= 0 {
		return bs[i].upper
	}
	return lower + (bs[i].upper-lower)*(rank-below)/inBucket
}
