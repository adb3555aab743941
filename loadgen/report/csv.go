package report

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
)

// csvHeader is summary.csv's header: one row per config × phase (one row
// with an empty phase for a config without phases; a search's trials are
// phases of their own) carrying every number of summary.json, in long
// format so that it loads straight into a spreadsheet or pandas. Ranking
// columns are filled on the row of the config's ranked sync phase;
// startup columns and config_capacity_at_slo on every row of the config;
// capacity_at_slo and slo on the search phase's row.
var csvHeader = []string{
	"simulated", "config", "config_status", "failure_class", "reason",
	"phase", "phase_status", "arrival", "target_rate", "max_concurrency",
	"achieved_rate", "query_throughput",
	"ttft_p50_ms", "ttft_p99_ms", "e2el_p50_ms", "e2el_p99_ms",
	"query_latency_p50_ms", "query_latency_p99_ms", "schedule_lag_p99_ms",
	"queries_completed", "queries_failed", "requests_failed", "errors",
	"query_goodput", "late_arrivals", "duration_s", "end_reason",
	"rank", "queries_per_sec", "avg_s", "p50_s", "p95_s", "p99_s", "share_of_best_pct",
	"ready_seconds", "compile_seconds", "compiled_artifacts",
	"prefix_caching", "prefix_cache_reset", "queue_time_mean_ms", "queue_time_p99_ms",
	"prefix_cache_hit_rate", "preemptions", "waiting_max", "kv_cache_usage_max",
	"recommended",
	"search", "rate_share", "rate_basis_capacity", "rate_basis_phase", "saturated_at_s", "saturation",
	"capacity_at_slo", "slo", "config_capacity_at_slo",
}

// WriteCSV writes summary.csv (see csvHeader). Numbers are written as in
// summary.json; absent values are empty cells. The simulated column says
// SIMULATED on every row of a simulated sweep and "real" otherwise.
func (s *Summary) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	rank := map[string]RankRow{}
	for _, r := range s.Ranking {
		rank[r.Config] = r
	}
	startup := map[string]StartupRow{}
	for _, r := range s.Startup {
		startup[r.Config] = r
	}
	srv := map[[2]string]ServerRow{}
	for _, r := range s.Server {
		srv[[2]string{r.Config, r.Phase}] = r
	}
	byConfig := map[string][]PhaseRow{}
	for _, p := range s.Phases {
		byConfig[p.Config] = append(byConfig[p.Config], p)
	}
	for _, st := range s.Startup {
		phases := byConfig[st.Config]
		if len(phases) == 0 {
			phases = []PhaseRow{{Config: st.Config}}
		}
		for _, p := range phases {
			rec := []string{simCell(s.Simulated), st.Config, st.Status, st.FailureClass, st.Reason}
			rec = append(rec, csvPhase(p)...)
			rr := rank[st.Config]
			if rr.Phase != "" && rr.Phase == p.Phase {
				rec = append(rec, strconv.Itoa(rr.Rank), num(rr.QueriesPerSec), num(rr.AvgS), num(rr.P50S),
					num(rr.P95S), num(rr.P99S), num(rr.SharePct))
			} else {
				rec = append(rec, "", "", "", "", "", "", "")
			}
			rec = append(rec, num(st.ReadySeconds), num(st.CompileSeconds), st.CompiledArtifacts)
			sr := srv[[2]string{p.Config, p.Phase}]
			rec = append(rec, boolCell(sr.PrefixCaching), sr.PrefixCacheReset, num(sr.QueueMeanMs), num(sr.QueueP99Ms),
				num(sr.PrefixCacheHitRate), num(sr.Preemptions), num(sr.WaitingMax), num(sr.KVCacheUsageMax))
			rec = append(rec, strconv.FormatBool(s.Recommendation != nil && s.Recommendation.Config == st.Config))
			rec = append(rec, p.Search, num(p.RateShare), num(p.Capacity), p.CapacityPhase, num(p.SaturatedAtS), p.Saturation,
				num(p.CapacityAtSLO), sloCell(s, p), num(rr.CapacityAtSLO))
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvPhase(p PhaseRow) []string {
	rate := ""
	if p.TargetRate != nil {
		rate = p.TargetRate.String()
	}
	return []string{p.Phase, p.Status, p.Arrival, rate, numI(p.MaxConcurrency),
		num(p.AchievedRate), num(p.QueryThroughput),
		num(p.TTFTP50Ms), num(p.TTFTP99Ms), num(p.E2ELP50Ms), num(p.E2ELP99Ms),
		num(p.QueryLatencyP50Ms), num(p.QueryLatencyP99Ms), num(p.ScheduleLagP99Ms),
		numI(p.QueriesCompleted), numI(p.QueriesFailed), numI(p.RequestsFailed), errorsCell(p.Errors),
		num(p.QueryGoodput), numI(p.LateArrivals), num(p.DurationS), p.EndReason}
}

// num writes a number as JSON does (shortest form that round-trips).
func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func numI(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func simCell(simulated bool) string {
	if simulated {
		return "SIMULATED"
	}
	return "real"
}

func boolCell(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// errorsCell writes error counts as "kind=n;kind=n", sorted by kind.
func errorsCell(errs map[string]int) string {
	kinds := make([]string, 0, len(errs))
	for k := range errs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = k + "=" + strconv.Itoa(errs[k])
	}
	return strings.Join(parts, ";")
}

// sloCell is the SLO of a search phase's row ("" for other rows).
func sloCell(s *Summary, p PhaseRow) string {
	if p.CapacityAtSLO == nil {
		return ""
	}
	for _, r := range s.Searches {
		if r.Config == p.Config && r.Phase == p.Phase {
			return r.SLO
		}
	}
	return ""
}
