package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"loadgen/loadgen/schema"
)

// recommend picks, among the configs that passed, the one with the
// highest capacity at the SLO when the sweep searched for it (the online
// question), else the one with the best sync query throughput (the
// offline benchmark's), and says why: its margin over the runner-up,
// plainly whether the online answer differs from the offline ranking, its
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
	if online, reasons := onlineChoice(s, sum, best); online != "" {
		rec.Config = online
		rec.Reasons = append(rec.Reasons, reasons...)
	} else {
		rec.Reasons = append(rec.Reasons, reason)
		rec.Reasons = append(rec.Reasons, reasons...)
	}
	if len(higherFailed) > 0 {
		rec.Reasons = append(rec.Reasons, "Ranked higher but failed, so not recommended: "+strings.Join(higherFailed, ", ")+".")
	}
	c := s.Config(rec.Config)
	var compact bytes.Buffer
	if json.Compact(&compact, c.Status.Settings) == nil {
		rec.Settings = compact.Bytes()
	}
	rec.Reasons = append(rec.Reasons, capacityReason(s, c))
	rec.Reasons = append(rec.Reasons, latencyReasons(s, c)...)
	for _, w := range s.warningList() {
		if !w.note && (w.config == "" || w.config == rec.Config) {
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
		// A search and its trials speak in the capacity at the SLO; a
		// phase cut as saturated holds only the queries that finished.
		if r == nil || !isOpenLoop(r) || p.trial() || isSearch(r) || r.EndReason == schema.EndSaturated {
			continue
		}
		q, ok := r.Latency[schema.MetricQueryLatency]
		if !ok || q.Count == 0 {
			continue
		}
		at := fmt.Sprintf("%s %s queries/s", r.Arrival, r.RequestRate)
		if r.RateShare > 0 && r.RateBasis != nil {
			at = fmt.Sprintf("%s of capacity, %s %.3g queries/s", pctText(r.RateShare), r.Arrival, float64(r.RequestRate))
		}
		msg := fmt.Sprintf("At %s (phase %s, achieved %.2f): query latency p50 %.4f s, p99 %.4f s",
			at, p.Name, r.AchievedRate, q.P50/1000, q.P99/1000)
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

// onlineChoice is the config with the highest capacity at the SLO among
// those that passed with a finished search, with the reasons that weigh
// it against the offline ranking's best (offline); "" when no config has
// a capacity at the SLO above zero (the reasons then say why).
func onlineChoice(s *Sweep, sum *Summary, offline *RankRow) (string, []string) {
	var rows []*RankRow
	for i := range sum.Ranking {
		r := &sum.Ranking[i]
		if r.CapacityAtSLO != nil && s.Config(r.Config).passed() {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return "", nil
	}
	// By capacity at the SLO; a tie goes to the faster one query at a
	// time (the ranking's order).
	sort.SliceStable(rows, func(i, j int) bool { return *rows[i].CapacityAtSLO > *rows[j].CapacityAtSLO })
	best := rows[0]
	slo := sloOf(sum, best.Config)
	if *best.CapacityAtSLO <= 0 {
		return "", []string{fmt.Sprintf("No config meets the SLO (%s) at any rate searched, so the choice rests on the offline ranking.", slo)}
	}
	reason := fmt.Sprintf("Highest capacity at the SLO (%s): %.3f queries/s", slo, *best.CapacityAtSLO)
	switch {
	case len(rows) == 1:
		reason += "; it is the only config with a finished search."
	case *rows[1].CapacityAtSLO > 0:
		reason += fmt.Sprintf(", %.2f× the runner-up %s (%.3f queries/s).", *best.CapacityAtSLO / *rows[1].CapacityAtSLO,
			rows[1].Config, *rows[1].CapacityAtSLO)
	default:
		reason += "; no other config meets the SLO at any rate searched."
	}
	reasons := []string{reason}
	if offline.Config != best.Config {
		at := "no capacity at the SLO was found"
		if offline.CapacityAtSLO != nil {
			at = fmt.Sprintf("it serves %.3f queries/s", *offline.CapacityAtSLO)
		}
		reasons = append(reasons, fmt.Sprintf("The online answer differs from the offline ranking: one query at a time (the sync phase, "+
			"the offline benchmark's measure) %s is fastest (%.4f queries/s against %.4f), but at the SLO %s.",
			offline.Config, *offline.QueriesPerSec, *best.QueriesPerSec, at))
	} else {
		reasons = append(reasons, fmt.Sprintf("The offline ranking agrees: %s is also the fastest one query at a time (%.4f queries/s in the sync phase).",
			best.Config, *best.QueriesPerSec))
	}
	if d := discordant(rows, best.Config, offline.Config); d != "" {
		reasons = append(reasons, "The two rankings also order other configs differently: "+d+".")
	}
	return best.Config, reasons
}

// discordant names the pairs of configs that the capacity at the SLO
// orders the other way round from the sync throughput (ties aside),
// except the pair (first, offline), already said.
func discordant(rows []*RankRow, first, offline string) string {
	var out []string
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			a, b := rows[i], rows[j]
			if a.Config == first && b.Config == offline {
				continue
			}
			if *a.CapacityAtSLO > *b.CapacityAtSLO && *a.QueriesPerSec < *b.QueriesPerSec {
				out = append(out, fmt.Sprintf("%s serves more at the SLO (%.3f vs %.3f queries/s) though %s is faster one query at a time",
					a.Config, *a.CapacityAtSLO, *b.CapacityAtSLO, b.Config))
			}
		}
	}
	return strings.Join(out, "; ")
}

// sloOf is the SLO of a config's search, as the capacity table shows it.
func sloOf(sum *Summary, config string) string {
	for _, r := range sum.Searches {
		if r.Config == config {
			return r.SLO
		}
	}
	return "unknown"
}
