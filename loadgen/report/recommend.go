package report

import (
	"loadgen/loadgen/schema"

	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// recommend picks the config with the best sync query throughput among
// those that passed, and says why: its margin over the runner-up, its
// capacity at rate inf and its latency at the open-loop rates, each next
// to the other configs'. Its warnings are the sweep-wide ones and its own.
func recommend(s *Sweep, sum *Summary) *Recommendation {
	rec := &Recommendation{Reasons: []string{}, Warnings: []string{}}
	var best *RankRow
	var runnerUp *RankRow
	var higherFailed []string
	for i := range sum.Ranking {
		r := &sum.Ranking[i]
		if r.Rank == 0 {
			continue
		}
		if !s.Config(r.Config).passed() {
			if best == nil {
				higherFailed = append(higherFailed, fmt.Sprintf("%s (%.4f queries/s, %s)", r.Config, *r.QueriesPerSec, orUnknown(r.FailureClass)))
			}
			continue
		}
		if best == nil {
			best = r
		} else if runnerUp == nil {
			runnerUp = r
		}
	}
	if best == nil {
		rec.Reasons = append(rec.Reasons, "No config passed with a completed sync phase, so there is nothing to recommend.")
		rec.Warnings = sum.Warnings
		return rec
	}
	rec.Config = best.Config
	reason := fmt.Sprintf("Highest query throughput in the sync phase (the offline benchmark's equivalent): %.4f queries/s", *best.QueriesPerSec)
	if runnerUp != nil {
		reason += fmt.Sprintf(", %.2f× the runner-up %s (%.4f queries/s).", *best.QueriesPerSec / *runnerUp.QueriesPerSec,
			runnerUp.Config, *runnerUp.QueriesPerSec)
	} else {
		reason += "; it is the only config that passed with a completed sync phase."
	}
	rec.Reasons = append(rec.Reasons, reason)
	if len(higherFailed) > 0 {
		rec.Reasons = append(rec.Reasons, "Ranked higher but failed, so not recommended: "+strings.Join(higherFailed, ", ")+".")
	}
	c := s.Config(best.Config)
	var compact bytes.Buffer
	if json.Compact(&compact, c.Status.Settings) == nil {
		rec.Settings = compact.Bytes()
	}
	rec.Reasons = append(rec.Reasons, capacityReason(s, c))
	rec.Reasons = append(rec.Reasons, latencyReasons(s, c)...)
	for _, w := range s.warningList() {
		if !w.note && (w.config == "" || w.config == best.Config) {
			rec.Warnings = append(rec.Warnings, w.text)
		}
	}
	return rec
}

// capacityReason compares the config's throughput at rate inf with the
// other passed configs', finished rate-inf phases only.
func capacityReason(s *Sweep, c *ConfigResult) string {
	p, unfinished := c.infPhase()
	switch {
	case p == nil && unfinished != nil:
		return fmt.Sprintf("Capacity was not measured: %s.", notRanked(unfinished))
	case p == nil:
		return "Capacity was not measured: the config has no rate-inf phase."
	}
	r := p.Result
	msg := fmt.Sprintf("Capacity at rate inf (phase %s%s): %.2f queries/s", p.Name, concurrencyNote(r), r.QueryThroughput)
	bestOther, bestName := 0.0, ""
	for i := range s.Configs {
		o := &s.Configs[i]
		if o.Name == c.Name || !o.passed() {
			continue
		}
		if op, _ := o.infPhase(); op != nil && op.Result.QueryThroughput > bestOther {
			bestOther, bestName = op.Result.QueryThroughput, o.Name
		}
	}
	switch {
	case bestName == "":
		return msg + "."
	case r.QueryThroughput >= bestOther:
		return msg + ", the highest of the configs that passed."
	default:
		return msg + fmt.Sprintf(", below %s (%.2f queries/s): prefer it if peak capacity matters more than single-query latency.", bestName, bestOther)
	}
}

func concurrencyNote(r *schema.PhaseResult) string {
	if r.MaxConcurrency == nil {
		return ""
	}
	return fmt.Sprintf(", max_concurrency %d", *r.MaxConcurrency)
}

// latencyReasons describe the config's query latency at each open-loop
// rate, next to the best p99 of the other passed configs in the same phase.
func latencyReasons(s *Sweep, c *ConfigResult) []string {
	var out []string
	for _, p := range c.Phases {
		r := p.Result
		if r == nil || !isOpenLoop(r) {
			continue
		}
		q, ok := r.Latency[schema.MetricQueryLatency]
		if !ok || q.Count == 0 {
			continue
		}
		msg := fmt.Sprintf("At %s %s queries/s (phase %s, achieved %.2f): query latency p50 %.4f s, p99 %.4f s",
			r.Arrival, r.RequestRate, p.Name, r.AchievedRate, q.P50/1000, q.P99/1000)
		lower, lowerName := q.P99, ""
		for i := range s.Configs {
			o := &s.Configs[i]
			if o.Name == c.Name || !o.passed() {
				continue
			}
			if op := o.Phase(p.Name); op != nil && op.Result != nil {
				if oq, ok := op.Result.Latency[schema.MetricQueryLatency]; ok && oq.Count > 0 && oq.P99 < lower {
					lower, lowerName = oq.P99, o.Name
				}
			}
		}
		if lowerName == "" {
			msg += ", the lowest p99 of the configs that passed."
		} else {
			msg += fmt.Sprintf("; %s has a lower p99 (%.4f s).", lowerName, lower/1000)
		}
		out = append(out, msg)
	}
	return out
}
