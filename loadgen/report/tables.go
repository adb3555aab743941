package report

import (
	"fmt"
	"strings"

	"loadgen/loadgen/schema"
)

// table is one section's table, rendered as Markdown and as HTML from the
// same cells.
type table struct {
	id     string
	title  string
	intro  string
	header []string
	// right marks right-aligned (numeric) columns.
	right []bool
	rows  [][]string
}

// cols builds a header and alignment from "name" (left) and ">name"
// (right) specs.
func (t *table) cols(specs ...string) {
	for _, s := range specs {
		name, r := strings.CutPrefix(s, ">")
		t.header = append(t.header, name)
		t.right = append(t.right, r)
	}
}

func (s *Summary) rankingTable() table {
	t := table{id: "ranking", title: "Ranking by query throughput in the sync phase"}
	phase := "each config's sync phase"
	if s.RankingPhase != "" {
		phase = "phase `" + s.RankingPhase + "`"
	}
	t.intro = fmt.Sprintf("The offline benchmark's table: %s (one query at a time, the offline equivalent), "+
		"per-query times in seconds, ranked by queries/s.", phase)
	atSLO := len(s.Searches) > 0
	if atSLO {
		t.intro += " Capacity at SLO is the online answer: the highest Poisson rate at which the SLO held (section 2)."
	}
	t.cols(">rank", "config", ">queries/s", ">avg (s)", ">p50 (s)", ">p95 (s)", ">p99 (s)", ">share of best")
	if atSLO {
		t.cols(">capacity at SLO (q/s)")
	}
	t.cols("status")
	for _, r := range s.Ranking {
		rank := dash
		if r.Rank > 0 {
			rank = fmt.Sprint(r.Rank)
		}
		share := dash
		if r.SharePct != nil {
			share = fmtF(r.SharePct, 1) + "%"
		}
		row := []string{rank, r.Config, fmtF(r.QueriesPerSec, 4), fmtF(r.AvgS, 4),
			fmtF(r.P50S, 4), fmtF(r.P95S, 4), fmtF(r.P99S, 4), share}
		if atSLO {
			row = append(row, fmtF(r.CapacityAtSLO, 3))
		}
		t.rows = append(t.rows, append(row, statusNote(r.Status, r.FailureClass, r.Reason)))
	}
	return t
}

// statusNote renders a status with its failure class and reason.
func statusNote(status, class, reason string) string {
	s := orUnknown(status)
	if class != "" {
		s += " (" + class + ")"
	}
	if reason != "" {
		s += ": " + reason
	}
	return s
}

func (s *Summary) phaseTable() table {
	t := table{id: "online", title: "Online phases",
		intro: "Per config and phase: target and achieved arrival rate and query throughput (queries/s), " +
			"latencies in ms (TTFT and E2E per request, query latency per query, schedule lag = sent − scheduled), " +
			"failed requests and goodput (queries/s within the SLOs). A relative rate shows its share of the capacity it is a share of; " +
			"a search's trials are listed under it; SATURATED marks a phase stopped early as past capacity (its numbers cover what finished)."}
	t.cols("config", "phase", "arrival", ">target", ">achieved", ">queries/s", ">TTFT p50", ">TTFT p99",
		">E2E p50", ">E2E p99", ">query p50", ">query p99", ">lag p99", ">errors", ">goodput")
	for _, r := range s.Phases {
		if r.Arrival == "" {
			t.rows = append(t.rows, []string{r.Config, r.Phase, "(" + orUnknown(r.Status) + ")",
				dash, dash, dash, dash, dash, dash, dash, dash, dash, dash, dash, dash})
			continue
		}
		t.rows = append(t.rows, []string{r.Config, phaseLabel(r), r.Arrival, fmtRate(r.Arrival, r.TargetRate),
			fmtF(r.AchievedRate, 2), fmtF(r.QueryThroughput, 2), fmtF(r.TTFTP50Ms, 1), fmtF(r.TTFTP99Ms, 1),
			fmtF(r.E2ELP50Ms, 1), fmtF(r.E2ELP99Ms, 1), fmtF(r.QueryLatencyP50Ms, 1), fmtF(r.QueryLatencyP99Ms, 1),
			fmtF(r.ScheduleLagP99Ms, 2), fmtErrors(r.RequestsFailed, r.Errors), fmtF(r.QueryGoodput, 2)})
	}
	return t
}

func (s *Summary) startupTable() table {
	t := table{id: "startup", title: "Startup",
		intro: "Launch to ready, the time spent compiling, and whether compiled artifacts were reused (hit) or compiled (miss)."}
	t.cols("config", "status", ">ready (s)", ">compile (s)", "compiled artifacts", "failure class", "reason")
	for _, r := range s.Startup {
		art := dash
		switch r.CompiledArtifacts {
		case "hit":
			art = "hit (reused)"
		case "miss":
			art = "miss (compiled)"
		}
		reason := r.Reason
		if len(r.Findings) > 0 {
			reason = strings.TrimPrefix(reason+"; findings: "+strings.Join(r.Findings, "; "), "; ")
		}
		t.rows = append(t.rows, []string{r.Config, orUnknown(r.Status), fmtF(r.ReadySeconds, 1),
			fmtF(r.CompileSeconds, 1), art, orDash(r.FailureClass), orDash(reason)})
	}
	return t
}

func (s *Summary) serverTable() table {
	t := table{id: "server", title: "Server-side metrics",
		intro: "From the server's /metrics over each phase: queue time (ms), prefix-cache hit rate, preemptions, " +
			"and whether the prefix cache was reset before each phase."}
	t.cols("config", "phase", "prefix caching", "cache reset", ">queue mean", ">queue p99", ">prefix-cache hits",
		">preemptions", ">waiting max", ">KV cache max")
	for _, r := range s.Server {
		t.rows = append(t.rows, []string{r.Config, r.Phase, fmtOnOff(r.PrefixCaching), resetCell(r.PrefixCacheReset),
			fmtF(r.QueueMeanMs, 1), fmtF(r.QueueP99Ms, 1), fmtPct(r.PrefixCacheHitRate),
			fmtF(r.Preemptions, 0), fmtF(r.WaitingMax, 0), fmtPct(r.KVCacheUsageMax)})
	}
	return t
}

// resetCell renders a prefix-cache reset status: whether the cache was
// reset, and if not, whether the server refused or the reset failed.
func resetCell(status string) string {
	switch status {
	case "":
		return dash
	case schema.ResetOK:
		return "yes"
	case schema.ResetUnsupported:
		return "no (refused by the server)"
	case schema.ResetFailed:
		return "no (failed)"
	}
	return "no (" + status + ")"
}

// tables are the report's sections before the recommendation, numbered
// in order: the ranking, the capacity at SLO (when a search ran), the
// online phases, startup and server-side metrics.
func (s *Summary) tables() []table {
	ts := []table{s.rankingTable()}
	if len(s.Searches) > 0 {
		ts = append(ts, s.searchTable())
	}
	ts = append(ts, s.phaseTable(), s.startupTable(), s.serverTable())
	for i := range ts {
		ts[i].title = fmt.Sprintf("%d. %s", i+1, ts[i].title)
	}
	return ts
}

// searchTable is the capacity at the SLO, config by config: the answer,
// the trials that bracket it, and what the search cost.
func (s *Summary) searchTable() table {
	t := table{id: "capacity-at-slo", title: "Capacity at the SLO",
		intro: "Per config, the highest Poisson arrival rate (queries/s) at which the SLO held: the passing trial at the answer " +
			"and the lowest failing trial above it (each a phase of its own below, with its .json and .hlog), " +
			"the bounds searched, and the trials and wall time it took."}
	t.cols("config", "phase", "SLO", ">capacity at SLO", ">latency there (ms)", ">fails at", ">upper bound", ">trials", ">time (s)", "outcome")
	for _, r := range s.Searches {
		upper := fmt.Sprintf("%.3f", r.Upper)
		if r.UpperPhase != "" {
			upper += " (" + r.UpperPhase + ")"
		}
		outcome := r.Reason
		if !r.Converged {
			outcome = "NOT CONVERGED: " + outcome
		}
		if r.Status != "" && r.Status != schema.StatusOK {
			outcome = r.Status + ": " + outcome
		}
		t.rows = append(t.rows, []string{r.Config, r.Phase, r.SLO, fmtF(r.CapacityAtSLO, 3), fmtF(r.LatencyMs, 1),
			fmtF(r.FailRate, 3), upper, fmt.Sprint(r.Trials), fmt.Sprintf("%.0f", r.Seconds), outcome})
	}
	return t
}

// sectionNumbers are the numbers of the recommendation and the SIMULATED
// sections, after the tables.
func (s *Summary) sectionNumbers() (recommendation, simulated int) {
	n := len(s.tables())
	return n + 1, n + 2
}
