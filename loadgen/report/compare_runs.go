package report

import (
	"fmt"
	"math"

	"loadgen/loadgen/schema"
)

// Thresholds decide which run-to-run changes CompareRuns flags.
type Thresholds struct {
	// LatencyPct and LatencyAbsMs: a latency statistic is flagged when it
	// moved by more than LatencyPct percent and by at least LatencyAbsMs.
	LatencyPct   float64 `json:"latency_pct"`
	LatencyAbsMs float64 `json:"latency_abs_ms"`
	// ThroughputPct: a throughput or goodput is flagged when it moved by
	// more than ThroughputPct percent.
	ThroughputPct float64 `json:"throughput_pct"`
}

// hdrRelativeError is the worst-case relative error of a value read back
// from an HDR histogram with 3 significant digits.
const hdrRelativeError = 0.1 // percent

// DefaultThresholds flag a latency change above max(5%, 2×HDR precision)
// and ≥ 1 ms, and a throughput change above 5%. 2×HDR precision (0.2%) is
// the quantisation of the two histograms compared, the floor below which a
// difference is not even measured; 5% is above the few-percent run-to-run
// noise of a server on the same host (scheduling, clocks, caches), and
// 1 ms is below anything a reranker query notices but above the client's
// timer and scheduling jitter, so sub-millisecond statistics (schedule lag
// on an idle client) do not raise alarms from large ratios of tiny values.
var DefaultThresholds = Thresholds{
	LatencyPct:    math.Max(5, 2*hdrRelativeError),
	LatencyAbsMs:  1,
	ThroughputPct: 5,
}

// Flags of a RunDelta.
const (
	FlagRegression  = "regression"
	FlagImprovement = "improvement"
	FlagChanged     = "changed" // moved beyond the threshold, neither better nor worse (the offered load)
)

// RunDelta is one metric of one config × phase in runs A and B.
type RunDelta struct {
	Config string  `json:"config"`
	Phase  string  `json:"phase"`
	Metric string  `json:"metric"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Abs    float64 `json:"abs"`
	// Pct is the change relative to A, nil when A is 0.
	Pct *float64 `json:"pct"`
	// Flag is "" (within noise), FlagRegression, FlagImprovement or
	// FlagChanged.
	Flag string `json:"flag,omitempty"`
	// FewSamples marks a tail percentile estimated from fewer samples than
	// it needs (n·(1−q) < 1: the p99 of 50 queries is their maximum).
	FewSamples bool `json:"few_samples,omitempty"`
}

// RunComparison is run B measured against run A.
type RunComparison struct {
	A          string     `json:"a"`
	B          string     `json:"b"`
	SimulatedA bool       `json:"simulated_a"`
	SimulatedB bool       `json:"simulated_b"`
	Thresholds Thresholds `json:"thresholds"`
	// Mixed is true when one run is simulated and the other is not.
	Mixed bool `json:"mixed_simulated_real"`
	// Warnings come first in every rendering: mixed runs, different
	// profiles, configs or phases missing on one side.
	Warnings []string   `json:"warnings"`
	Deltas   []RunDelta `json:"deltas"`
	// Flagged counts deltas beyond the thresholds; Regressions those that
	// got worse.
	Flagged     int `json:"flagged"`
	Regressions int `json:"regressions"`
}

// CompareRuns compares two sweeps with DefaultThresholds.
func CompareRuns(a, b *Sweep) *RunComparison { return CompareRunsWith(a, b, DefaultThresholds) }

// CompareRunsWith compares every metric of every config × phase present in
// both sweeps. Comparing a simulated run with a real one is done, but
// behind a loud warning (Mixed): the differences then say nothing about the
// server.
func CompareRunsWith(a, b *Sweep, th Thresholds) *RunComparison {
	c := &RunComparison{A: a.Dir, B: b.Dir, SimulatedA: a.Simulated(), SimulatedB: b.Simulated(),
		Thresholds: th, Warnings: []string{}, Deltas: []RunDelta{}}
	if c.SimulatedA != c.SimulatedB {
		c.Mixed = true
		c.Warnings = append(c.Warnings, fmt.Sprintf("COMPARING A SIMULATED RUN WITH A REAL ONE (A simulated: %t, B simulated: %t): "+
			"the deltas below measure the simulator's model against hardware, not a regression.", c.SimulatedA, c.SimulatedB))
	}
	if ha, hb := a.manifest().ProfileHash, b.manifest().ProfileHash; ha != "" && hb != "" && ha != hb {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the profiles differ (hash %s vs %s): configs of the same name may not be the same setup", ha, hb))
	}
	for i := range a.Configs {
		ca := &a.Configs[i]
		cb := b.Config(ca.Name)
		if cb == nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("config %s is only in A", ca.Name))
			continue
		}
		for _, pa := range ca.Phases {
			if pa.trial() {
				continue // a search's trials run at rates of its own: compare the searches
			}
			pb := cb.Phase(pa.Name)
			switch {
			case pa.Result == nil && (pb == nil || pb.Result == nil):
				continue
			case pa.Result == nil:
				c.Warnings = append(c.Warnings, fmt.Sprintf("config %s phase %s has results only in B", ca.Name, pa.Name))
			case pb == nil || pb.Result == nil:
				c.Warnings = append(c.Warnings, fmt.Sprintf("config %s phase %s has results only in A", ca.Name, pa.Name))
			default:
				c.comparePhase(ca.Name, pa.Name, pa.Result, pb.Result)
			}
		}
		for _, pb := range cb.Phases {
			if ca.Phase(pb.Name) == nil && pb.Result != nil && !pb.trial() {
				c.Warnings = append(c.Warnings, fmt.Sprintf("config %s phase %s is only in B", ca.Name, pb.Name))
			}
		}
	}
	for i := range b.Configs {
		if a.Config(b.Configs[i].Name) == nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("config %s is only in B", b.Configs[i].Name))
		}
	}
	return c
}

// direction of a metric: which way is better.
const (
	higherBetter = 1
	lowerBetter  = -1
	neutral      = 0
)

func (c *RunComparison) comparePhase(config, phase string, a, b *schema.PhaseResult) {
	add := func(metric string, va, vb float64, dir int, latency bool, few bool) {
		d := RunDelta{Config: config, Phase: phase, Metric: metric, A: va, B: vb, Abs: round(vb-va, 6), FewSamples: few}
		if va != 0 {
			d.Pct = f64(round(relPct(vb, va), 2))
		}
		d.Flag = c.flag(d, dir, latency)
		if d.Flag != "" {
			c.Flagged++
			if d.Flag == FlagRegression {
				c.Regressions++
			}
		}
		c.Deltas = append(c.Deltas, d)
	}
	if a.CapacityAtSLO != nil && b.CapacityAtSLO != nil {
		add("capacity_at_slo", *a.CapacityAtSLO, *b.CapacityAtSLO, higherBetter, false, false)
	}
	add("query_throughput", a.QueryThroughput, b.QueryThroughput, higherBetter, false, false)
	add("achieved_rate", a.AchievedRate, b.AchievedRate, neutral, false, false)
	if a.QueryGoodput != nil && b.QueryGoodput != nil {
		add("query_goodput", *a.QueryGoodput, *b.QueryGoodput, higherBetter, false, false)
	}
	add("requests_failed", float64(a.Failed), float64(b.Failed), lowerBetter, false, false)
	for _, ms := range []struct {
		metric string
		stats  []string
	}{
		{schema.MetricTTFT, []string{"p50", "p99"}},
		{schema.MetricE2EL, []string{"p50", "p99"}},
		{schema.MetricQueryLatency, []string{"mean", "p50", "p95", "p99"}},
		{schema.MetricScheduleLag, []string{"p99"}},
	} {
		sa, okA := a.Latency[ms.metric]
		sb, okB := b.Latency[ms.metric]
		if !okA || !okB || sa.Count == 0 || sb.Count == 0 {
			continue
		}
		for _, st := range ms.stats {
			va, q := pick(sa, st)
			vb, _ := pick(sb, st)
			few := q > 0 && float64(min(sa.Count, sb.Count))*(1-q) < 1
			add(st+"_"+ms.metric+"_ms", va, vb, lowerBetter, true, few)
		}
	}
}

// pick returns a statistic and its quantile (0 for the mean).
func pick(s schema.Stats, stat string) (float64, float64) {
	switch stat {
	case "mean":
		return s.Mean, 0
	case "p50":
		return s.P50, 0.5
	case "p95":
		return s.P95, 0.95
	default:
		return s.P99, 0.99
	}
}

// flag applies the thresholds to one delta.
func (c *RunComparison) flag(d RunDelta, dir int, latency bool) string {
	if d.Metric == "requests_failed" {
		switch {
		case d.B > d.A:
			return FlagRegression
		case d.B < d.A:
			return FlagImprovement
		}
		return ""
	}
	limit := c.Thresholds.ThroughputPct
	if latency {
		limit = c.Thresholds.LatencyPct
		if math.Abs(d.Abs) < c.Thresholds.LatencyAbsMs {
			return ""
		}
	}
	if d.Pct == nil {
		if d.Abs == 0 {
			return ""
		}
	} else if math.Abs(*d.Pct) <= limit {
		return ""
	}
	switch {
	case dir == neutral:
		return FlagChanged
	case (d.Abs > 0) == (dir == higherBetter):
		return FlagImprovement
	default:
		return FlagRegression
	}
}
