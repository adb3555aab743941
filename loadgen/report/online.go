package report

import (
	"fmt"

	"loadgen/loadgen/schema"
)

// The online-capacity side of a sweep: searches for the capacity at an
// SLO with their trials, relative rates, and phases cut as saturated.

// trial reports whether the phase is a trial of a search.
func (p *Phase) trial() bool { return p.Search != "" }

// isSearch reports whether a result is a search phase's.
func isSearch(r *schema.PhaseResult) bool { return r.Search != nil }

// searchPhase is the config's first finished search phase; when it has
// none, unfinished is its first search phase with a result, if any.
func (c *ConfigResult) searchPhase() (p, unfinished *Phase) { return c.phaseOf(isSearch) }

// capacityAtSLO is the config's capacity at the SLO from its finished
// search phase (nil without one).
func (c *ConfigResult) capacityAtSLO() *float64 {
	if p, _ := c.searchPhase(); p != nil {
		return f64(round(p.Result.Search.CapacityAtSLO, 6))
	}
	return nil
}

// searchRows lists every search phase with a result, config by config.
func (s *Sweep) searchRows() []SearchRow {
	rows := []SearchRow{}
	for i := range s.Configs {
		c := &s.Configs[i]
		for _, p := range c.Phases {
			if p.Result == nil || p.Result.Search == nil {
				continue
			}
			rows = append(rows, searchRow(c, p))
		}
	}
	return rows
}

func searchRow(c *ConfigResult, p *Phase) SearchRow {
	rec := p.Result.Search
	row := SearchRow{Config: c.Name, Phase: p.Name, Status: p.Status, SLO: rec.SLO.String(),
		Metric: rec.SLO.Metric, Percentile: rec.SLO.Percentile, MaxMs: rec.SLO.MaxMs,
		CapacityAtSLO: f64(round(rec.CapacityAtSLO, 6)), PassTrial: rec.Pass, FailTrial: rec.Fail,
		Lower: round(rec.Lower, 6), Upper: round(rec.Upper, 6), UpperPhase: rec.UpperPhase,
		Trials: len(rec.Trials), Seconds: round(rec.Seconds, 3), Converged: rec.Converged, Reason: rec.Reason}
	if t := trialOf(rec, rec.Pass); t != nil {
		row.LatencyMs = f64(round(t.Value, 3))
	}
	if t := trialOf(rec, rec.Fail); t != nil {
		row.FailRate = f64(round(t.Rate, 6))
	}
	return row
}

// trialOf returns trial n (1-based) of a search, nil when there is none.
func trialOf(rec *schema.SearchResult, n int) *schema.Trial {
	if n < 1 || n > len(rec.Trials) {
		return nil
	}
	return &rec.Trials[n-1]
}

// onlinePhaseCells fills a phase row's online-capacity fields.
func onlinePhaseCells(row *PhaseRow, p *Phase) {
	r := p.Result
	row.Search = p.Search
	if b := r.RateBasis; b != nil {
		row.Capacity, row.CapacityPhase = f64(round(b.Capacity, 6)), b.Phase
		if r.RateShare > 0 {
			row.RateShare = f64(round(r.RateShare, 6))
		}
	}
	if sat := r.Saturation; sat != nil && r.EndReason == schema.EndSaturated {
		row.SaturatedAtS, row.Saturation = f64(round(sat.At, 3)), sat.Evidence
	}
	if r.CapacityAtSLO != nil {
		row.CapacityAtSLO = f64(round(*r.CapacityAtSLO, 6))
	}
}

// phaseLabel names a phase row in the online table: the name, a relative
// rate's share, SATURATED for a phase stopped as past capacity, and a
// search's answer.
func phaseLabel(r PhaseRow) string {
	out := r.Phase
	if r.RateShare != nil && r.Capacity != nil {
		out += fmt.Sprintf(" (%s of %.3g)", pctText(*r.RateShare), *r.Capacity)
	}
	if r.SaturatedAtS != nil {
		out += fmt.Sprintf(" SATURATED, cut at %.1f s", *r.SaturatedAtS)
	}
	if r.CapacityAtSLO != nil {
		out += fmt.Sprintf(" = capacity at SLO %.3g q/s", *r.CapacityAtSLO)
		if r.Arrival != "" && r.QueriesCompleted != nil {
			out += " (its passing trial's numbers)"
		}
	}
	return out
}

// pctText renders a share as a percentage ("75%").
func pctText(share float64) string {
	return fmt.Sprintf("%g%%", round(100*share, 4))
}

// saturationWarning says that a phase was cut as saturated, with the
// evidence and what the cut left out ("" for other phases).
func saturationWarning(r *schema.PhaseResult) string {
	s := r.Saturation
	if s == nil || r.EndReason != schema.EndSaturated {
		return ""
	}
	return fmt.Sprintf("SATURATED: stopped early at %.1f s, %d of %d planned queries completed (%d cut in flight, %d never sent; "+
		"their latencies are not in the statistics, which cover only what finished): %s",
		s.At, r.QueriesCompleted, s.Planned, s.QueriesCut, s.NotSent, s.Evidence)
}
