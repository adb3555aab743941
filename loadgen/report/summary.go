package report

import (
	"encoding/json"
	"time"

	"loadgen/loadgen/schema"
)

// SummarySchemaVersion is the current Summary.SchemaVersion.
const SummarySchemaVersion = 1

// Summary holds the numbers of a sweep's report. It is what summary.json
// serialises; summary.md, summary.csv and report.html render the same
// values. Absent values (a phase that did not run, a metric the server
// does not export) are nil and serialise as null.
type Summary struct {
	SchemaVersion int  `json:"schema_version"`
	Simulated     bool `json:"simulated"`
	// Banner is the SIMULATED banner, empty for real runs.
	Banner         string          `json:"banner,omitempty"`
	Profile        string          `json:"profile"`
	ProfileHash    string          `json:"profile_hash,omitempty"`
	LoadgenVersion string          `json:"loadgen_version,omitempty"`
	Host           schema.HostInfo `json:"host"`
	Status         string          `json:"status"`
	StartedAt      time.Time       `json:"started_at,omitzero"`
	EndedAt        time.Time       `json:"ended_at,omitzero"`
	// RankingPhase names the sync phase ranked in section 1 when every
	// config has it under the same name (rows carry their own otherwise).
	RankingPhase string    `json:"ranking_phase"`
	Ranking      []RankRow `json:"ranking"`
	// Searches are the capacity-at-SLO searches, config by config.
	Searches       []SearchRow     `json:"capacity_at_slo"`
	Phases         []PhaseRow      `json:"phases"`
	Startup        []StartupRow    `json:"startup"`
	Server         []ServerRow     `json:"server_metrics"`
	Recommendation *Recommendation `json:"recommendation"`
	// Warnings are everything a reader should know before trusting the
	// numbers, config by config.
	Warnings []string `json:"warnings"`
	// Notes are informational: worth knowing, but they put no number in
	// doubt (a dataset that wrapped without prefix caching).
	Notes []string `json:"notes"`
}

// RankRow is a row of the offline benchmark's table: a config's query
// throughput and per-query latency (seconds) in its sync phase.
type RankRow struct {
	// Rank is 1 for the best; 0 for configs that could not be ranked.
	Rank          int      `json:"rank"`
	Config        string   `json:"config"`
	Phase         string   `json:"phase,omitempty"`
	QueriesPerSec *float64 `json:"queries_per_sec"`
	AvgS          *float64 `json:"avg_s"`
	P50S          *float64 `json:"p50_s"`
	P95S          *float64 `json:"p95_s"`
	P99S          *float64 `json:"p99_s"`
	// SharePct is the throughput as a percentage of the best config's.
	SharePct *float64 `json:"share_of_best_pct"`
	Queries  *int     `json:"queries"`
	// CapacityAtSLO is the config's capacity at the SLO (queries/s) from
	// its finished search phase; nil without one.
	CapacityAtSLO *float64 `json:"capacity_at_slo"`
	// Status is the config's status; FailureClass and Reason say why it
	// failed or why it has no rank.
	Status       string `json:"status"`
	FailureClass string `json:"failure_class,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// PhaseRow is one config × phase of the online table. Latencies are in
// milliseconds, rates in queries per second.
type PhaseRow struct {
	Config  string `json:"config"`
	Phase   string `json:"phase"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Arrival string `json:"arrival,omitempty"`
	// TargetRate is the requested arrival rate ("inf" for rate inf).
	TargetRate        *schema.Rate `json:"target_rate"`
	MaxConcurrency    *int         `json:"max_concurrency"`
	AchievedRate      *float64     `json:"achieved_rate"`
	QueryThroughput   *float64     `json:"query_throughput"`
	TTFTP50Ms         *float64     `json:"ttft_p50_ms"`
	TTFTP99Ms         *float64     `json:"ttft_p99_ms"`
	E2ELP50Ms         *float64     `json:"e2el_p50_ms"`
	E2ELP99Ms         *float64     `json:"e2el_p99_ms"`
	QueryLatencyP50Ms *float64     `json:"query_latency_p50_ms"`
	QueryLatencyP99Ms *float64     `json:"query_latency_p99_ms"`
	ScheduleLagP99Ms  *float64     `json:"schedule_lag_p99_ms"`
	QueriesCompleted  *int         `json:"queries_completed"`
	QueriesFailed     *int         `json:"queries_failed"`
	RequestsFailed    *int         `json:"requests_failed"`
	// Errors counts failed requests by kind.
	Errors map[string]int `json:"errors,omitempty"`
	// QueryGoodput is queries/s meeting the SLOs (nil without SLOs).
	QueryGoodput *float64 `json:"query_goodput"`
	LateArrivals *int     `json:"late_arrivals"`
	DurationS    *float64 `json:"duration_s"`
	EndReason    string   `json:"end_reason,omitempty"`
	// Search names the search phase this row is a trial of.
	Search string `json:"search,omitempty"`
	// RateShare is a relative rate's share of capacity (0.75 for 75%),
	// of Capacity (queries/s) measured by CapacityPhase.
	RateShare     *float64 `json:"rate_share,omitempty"`
	Capacity      *float64 `json:"capacity,omitempty"`
	CapacityPhase string   `json:"capacity_phase,omitempty"`
	// SaturatedAtS is when a saturated phase was cut (seconds into it),
	// and Saturation the evidence.
	SaturatedAtS *float64 `json:"saturated_at_s,omitempty"`
	Saturation   string   `json:"saturation,omitempty"`
	// CapacityAtSLO is a search phase's answer (queries/s).
	CapacityAtSLO *float64 `json:"capacity_at_slo,omitempty"`
}

// SearchRow is one config's search for its capacity at the SLO.
type SearchRow struct {
	Config string `json:"config"`
	Phase  string `json:"phase"`
	Status string `json:"status"`
	// SLO is the objective, e.g. "p99 query_latency ≤ 1s, failed ≤ 1%";
	// Metric, Percentile and MaxMs are its parts.
	SLO        string  `json:"slo"`
	Metric     string  `json:"metric"`
	Percentile float64 `json:"percentile"`
	MaxMs      float64 `json:"max_ms"`
	// CapacityAtSLO is the highest passing rate (queries/s), PassRate the
	// same trial's and FailRate the lowest failing rate above it (nil:
	// none failed above it), with their trial numbers; LatencyMs is the
	// SLO's percentile at the passing trial.
	CapacityAtSLO *float64 `json:"capacity_at_slo"`
	PassTrial     int      `json:"pass_trial,omitempty"`
	FailTrial     int      `json:"fail_trial,omitempty"`
	FailRate      *float64 `json:"fail_rate"`
	LatencyMs     *float64 `json:"latency_at_capacity_ms"`
	// Lower and Upper are the bounds searched; UpperPhase measured Upper.
	Lower      float64 `json:"lower"`
	Upper      float64 `json:"upper"`
	UpperPhase string  `json:"upper_phase,omitempty"`
	// Trials and Seconds are what the search cost.
	Trials    int     `json:"trials"`
	Seconds   float64 `json:"seconds"`
	Converged bool    `json:"converged"`
	Reason    string  `json:"reason"`
}

// StartupRow is a config's server startup.
type StartupRow struct {
	Config string `json:"config"`
	Status string `json:"status"`
	Ready  bool   `json:"ready"`
	// ReadySeconds is launch to ready; CompileSeconds sums the startup
	// phases that compiled graphs.
	ReadySeconds   *float64 `json:"ready_seconds"`
	CompileSeconds *float64 `json:"compile_seconds"`
	// CompiledArtifacts is "hit" (reused), "miss" (compiled) or "".
	CompiledArtifacts string `json:"compiled_artifacts"`
	FailureClass      string `json:"failure_class,omitempty"`
	Reason            string `json:"reason,omitempty"`
	// Findings are log lines that void or question the run.
	Findings []string `json:"findings,omitempty"`
}

// ServerRow is what the server's /metrics said about a config × phase.
type ServerRow struct {
	Config string `json:"config"`
	Phase  string `json:"phase"`
	// PrefixCaching is the config's enable_prefix_caching setting.
	PrefixCaching *bool `json:"prefix_caching"`
	// PrefixCacheReset is "ok", "unsupported" (refused by the server),
	// "failed" (transient error, server gone) or "" (not attempted).
	PrefixCacheReset   string   `json:"prefix_cache_reset"`
	QueueMeanMs        *float64 `json:"queue_time_mean_ms"`
	QueueP99Ms         *float64 `json:"queue_time_p99_ms"`
	PrefixCacheHitRate *float64 `json:"prefix_cache_hit_rate"`
	PrefixCacheHits    *float64 `json:"prefix_cache_hits"`
	PrefixCacheQueries *float64 `json:"prefix_cache_queries"`
	Preemptions        *float64 `json:"preemptions"`
	WaitingMax         *float64 `json:"waiting_max"`
	KVCacheUsageMax    *float64 `json:"kv_cache_usage_max"`
}

// Recommendation is section 5: the config to use and why.
type Recommendation struct {
	// Config is empty when no config passed.
	Config string `json:"config"`
	// Settings are the config's resolved settings.
	Settings json.RawMessage `json:"settings,omitempty"`
	Reasons  []string        `json:"reasons"`
	Warnings []string        `json:"warnings"`
}
