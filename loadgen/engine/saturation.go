package engine

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
	"time"

	"loadgen/loadgen/schema"
)

// SaturationStop ends an open-loop phase (poisson, gamma, constant) early
// when it is clearly past capacity, with EndReason "saturated" and the
// evidence in PhaseResult.Saturation. Two rules, either of which stops it:
//
//   - The SLO is certain to be missed (Exact, with a latency SLO or a
//     failure budget): more queries than the SLO allows have finished over
//     Latency, failed, or are still running and already older than
//     Latency. Censored queries count as misses: they can only end over
//     the threshold or fail. This is exact, not a guess, so a search trial
//     that cannot pass stops as soon as that is known.
//   - The queue grows steadily while latency is past a multiple of the
//     SLO: the queries due but not finished (arrivals due but unsent plus
//     queries in flight) rise with a slope whose 95% confidence interval
//     excludes zero over at least MinSpan, its floor (the least queue of
//     the window's last third against its first third) rises by two
//     queries or more, the queue is not draining (not below the mean of
//     the last third), and the median latency of the queries finished
//     last is past Factor × Latency. A merely bursty phase fills its queue
//     and drains it again, so its floor does not rise, or it is draining. Without a latency SLO
//     the growth alone decides, over twice the span.
type SaturationStop struct {
	// Latency is the SLO's threshold on query latency (0: none).
	Latency time.Duration
	// Percentile is the SLO's percentile of query latency (default 99).
	Percentile float64
	// MaxFailed is the share (0–1) of the phase's queries that may fail
	// with the SLO still held.
	MaxFailed float64
	// Exact stops the phase as soon as the SLO is certain to be missed.
	Exact bool
	// Factor is the multiple of Latency past which finished queries are
	// evidence of saturation (default DefaultSaturationFactor).
	Factor float64
	// MinSpan is the least time the queue must be watched before its
	// growth counts (default DefaultSaturationSpan); Window bounds the
	// samples the slope is fitted to (default 3 × MinSpan).
	MinSpan, Window time.Duration
}

// Saturation defaults.
const (
	DefaultSaturationFactor = 3
	DefaultSaturationSpan   = 10 * time.Second
)

func (s SaturationStop) withDefaults() SaturationStop {
	if s.Percentile == 0 {
		s.Percentile = 99
	}
	if s.Factor == 0 {
		s.Factor = DefaultSaturationFactor
	}
	if s.MinSpan == 0 {
		s.MinSpan = DefaultSaturationSpan
	}
	if s.Window == 0 {
		s.Window = 3 * s.MinSpan
	}
	return s
}

// AllowedMisses is how many of n queries may miss a latency SLO at the
// given percentile with the SLO still held: n − k, where k is the rank of
// the percentile's value as the HDR histogram reads it (round(p·n/100),
// at least 1).
func AllowedMisses(n int, percentile float64) int {
	k := int(percentile/100*float64(n) + 0.5)
	return max(0, n-max(k, 1))
}

// AllowedFailures is how many of n queries may fail with at most a share
// maxFailed failed.
func AllowedFailures(n int, maxFailed float64) int {
	return int(math.Floor(maxFailed*float64(n) + 1e-9))
}

// satTick is what the collector sees at the end of an interval.
type satTick struct {
	At time.Duration // since the measured origin
	// Due counts arrivals due by At, Old those due by At − Latency,
	// Dispatched those sent and Finished the queries finished or failed.
	Due, Old, Dispatched, Finished int
}

// satDetector applies a SaturationStop to what a phase shows: the
// queries as they finish and the counts at each interval. It is a pure
// value: no clock, no goroutine; the collector feeds it.
type satDetector struct {
	cfg     SaturationStop
	planned int
	allowL  int // latency misses allowed
	allowF  int // failures allowed

	over, failed int        // finished over the latency, failed
	oldDone      int        // finished queries scheduled at or before the last cut
	young        offsetHeap // finished queries scheduled after the last cut
	cut          time.Duration

	samples []satSample
	recent  [16]time.Duration // latencies of the last finished queries
	nRecent int
}

type satSample struct {
	t time.Duration
	q float64
}

func newSatDetector(cfg SaturationStop, planned int) *satDetector {
	cfg = cfg.withDefaults()
	return &satDetector{cfg: cfg, planned: planned, cut: math.MinInt64,
		allowL: AllowedMisses(planned, cfg.Percentile), allowF: AllowedFailures(planned, cfg.MaxFailed)}
}

// finished records a measured query that finished: when it was
// scheduled, its latency and whether it failed.
func (d *satDetector) finished(scheduled, latency time.Duration, failed bool) {
	switch {
	case failed:
		d.failed++
	case d.cfg.Latency > 0 && latency > d.cfg.Latency:
		d.over++
	}
	if !failed {
		d.recent[d.nRecent%len(d.recent)] = latency
		d.nRecent++
	}
	if scheduled <= d.cut {
		d.oldDone++
	} else {
		heap.Push(&d.young, scheduled)
	}
}

// unfinishedOld counts the queries due by t.Old that have not finished:
// they are older than the latency threshold, so they will miss it.
func (d *satDetector) unfinishedOld(t satTick) int {
	if d.cfg.Latency <= 0 {
		return 0
	}
	return max(0, t.Old-d.oldDone)
}

// tick takes the counts at the end of an interval and returns the
// evidence when the phase is to stop by either rule (nil otherwise).
func (d *satDetector) tick(t satTick) *schema.Saturation {
	if ev := d.check(t); ev != nil {
		return ev
	}
	return d.growth(t)
}

// check applies the exact rule alone, at any moment (the collector checks
// after every query that finished).
func (d *satDetector) check(t satTick) *schema.Saturation {
	if d.cfg.Latency > 0 && t.At-d.cfg.Latency > d.cut {
		d.cut = t.At - d.cfg.Latency
		for d.young.Len() > 0 && d.young[0] <= d.cut {
			heap.Pop(&d.young)
			d.oldDone++
		}
	}
	return d.certain(t)
}

// certain applies the exact rule.
func (d *satDetector) certain(t satTick) *schema.Saturation {
	if !d.cfg.Exact || d.planned == 0 {
		return nil
	}
	u := d.unfinishedOld(t)
	var why string
	switch {
	case d.failed > d.allowF:
		why = fmt.Sprintf("%d of %d planned queries failed; the SLO allows %d", d.failed, d.planned, d.allowF)
	case d.cfg.Latency > 0 && d.over > d.allowL:
		why = fmt.Sprintf("%d of %d planned queries finished over %v; p%g allows %d",
			d.over, d.planned, d.cfg.Latency, d.cfg.Percentile, d.allowL)
	case d.cfg.Latency > 0 && d.over+d.failed+u > d.allowL+d.allowF:
		why = fmt.Sprintf("%d of %d planned queries are certain to miss the SLO (%d finished over %v, %d failed, %d still running and older than it); p%g and the failure budget allow %d",
			d.over+d.failed+u, d.planned, d.over, d.cfg.Latency, d.failed, u, d.cfg.Percentile, d.allowL+d.allowF)
	default:
		return nil
	}
	ev := d.evidence(t, schema.SaturatedSLOMiss, why)
	ev.Misses, ev.AllowedMisses = d.over+d.failed+u, d.allowL+d.allowF
	return ev
}

// growth applies the queue-growth rule.
func (d *satDetector) growth(t satTick) *schema.Saturation {
	q := float64(max(0, t.Due-t.Finished))
	d.samples = append(d.samples, satSample{t.At, q})
	from := 0
	for from < len(d.samples) && t.At-d.samples[from].t > d.cfg.Window {
		from++
	}
	d.samples = d.samples[from:]
	span := d.cfg.MinSpan
	if d.cfg.Latency <= 0 {
		span *= 2
	}
	if len(d.samples) < 5 || t.At-d.samples[0].t < span {
		return nil
	}
	slope, ci := olsSlope(d.samples)
	if !(slope > 0 && ci < slope) {
		return nil
	}
	// Steady growth raises the queue's floor: a burst fills the queue and
	// drains it again, so the least queue of the window's last third is
	// no higher than that of its first.
	// It does not drain either: the queue now is at least the mean of the
	// window's last third.
	third := (t.At - d.samples[0].t) / 3
	floorFirst, floorLast := math.Inf(1), math.Inf(1)
	var sumLast, nLast float64
	for _, p := range d.samples {
		if p.t <= d.samples[0].t+third {
			floorFirst = math.Min(floorFirst, p.q)
		}
		if p.t >= t.At-third {
			floorLast = math.Min(floorLast, p.q)
			sumLast, nLast = sumLast+p.q, nLast+1
		}
	}
	if floorLast < floorFirst+2 || q < sumLast/nLast {
		return nil
	}
	med := d.recentMedian()
	if d.cfg.Latency > 0 && float64(med) <= d.cfg.Factor*float64(d.cfg.Latency) {
		return nil
	}
	why := fmt.Sprintf("the queue (due but unfinished) grew by %.2f queries/s (±%.2f, 95%%) over %.0f s to %.0f queries",
		slope, ci, (t.At - d.samples[0].t).Seconds(), q)
	if d.cfg.Latency > 0 {
		why += fmt.Sprintf(", and the last queries took %.2f s (median), past %g × the SLO of %v", med.Seconds(), d.cfg.Factor, d.cfg.Latency)
	}
	ev := d.evidence(t, schema.SaturatedGrowth, why)
	ev.QueueSlope, ev.QueueSlopeCI = slope, ci
	ev.Window = (t.At - d.samples[0].t).Seconds()
	if d.cfg.Latency > 0 {
		ev.LatencyFactor = d.cfg.Factor
	}
	return ev
}

func (d *satDetector) evidence(t satTick, reason, why string) *schema.Saturation {
	return &schema.Saturation{
		Reason: reason, Evidence: why, At: t.At.Seconds(), Planned: d.planned, Due: t.Due,
		Backlog: max(0, t.Due-t.Dispatched), InFlight: max(0, t.Dispatched-t.Finished),
		RecentLatency: d.recentMedian().Seconds(),
	}
}

// recentMedian is the median latency of the last finished queries.
func (d *satDetector) recentMedian() time.Duration {
	n := min(d.nRecent, len(d.recent))
	if n == 0 {
		return 0
	}
	v := slices.Clone(d.recent[:n])
	slices.Sort(v)
	return v[n/2]
}

// olsSlope fits q = a + b·t by least squares and returns b with the
// half-width of its 95% confidence interval. Samples a second apart are
// correlated, so the degrees of freedom are at most the span in seconds.
func olsSlope(s []satSample) (slope, ci float64) {
	n := float64(len(s))
	var mt, mq float64
	for _, p := range s {
		mt += p.t.Seconds()
		mq += p.q
	}
	mt, mq = mt/n, mq/n
	var sxx, sxy float64
	for _, p := range s {
		dt := p.t.Seconds() - mt
		sxx += dt * dt
		sxy += dt * (p.q - mq)
	}
	if sxx == 0 {
		return 0, math.Inf(1)
	}
	slope = sxy / sxx
	var rss float64
	for _, p := range s {
		e := p.q - mq - slope*(p.t.Seconds()-mt)
		rss += e * e
	}
	df := math.Min(n, (s[len(s)-1].t-s[0].t).Seconds()) - 2
	if df < 1 {
		return slope, math.Inf(1)
	}
	se := math.Sqrt(rss / (n - 2) / sxx)
	return slope, tCrit95(df) * se
}

// tCrit95 approximates the two-sided 95% critical value of Student's t
// with df degrees of freedom (Cornish–Fisher expansion around z = 1.96;
// within 1% for df ≥ 3).
func tCrit95(df float64) float64 {
	const z = 1.959964
	z3, z5 := z*z*z, z*z*z*z*z
	return z + (z3+z)/(4*df) + (5*z5+16*z3+3*z)/(96*df*df)
}

// offsetHeap is a min-heap of schedule offsets.
type offsetHeap []time.Duration

func (h offsetHeap) Len() int           { return len(h) }
func (h offsetHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h offsetHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *offsetHeap) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *offsetHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
