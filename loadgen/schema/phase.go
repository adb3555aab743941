package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// PhaseSchemaVersion is the version of the phase result JSON (<phase>.json).
const PhaseSchemaVersion = 1

// Metric names, as used in result keys (mean_<metric>_ms, …). The first four
// follow `vllm bench serve`; the others are loadgen's own.
const (
	MetricTTFT         = "ttft"
	MetricE2EL         = "e2el"
	MetricITL          = "itl"
	MetricTPOT         = "tpot"
	MetricQueryLatency = "query_latency"
	MetricResponseTime = "response_time"
	MetricScheduleLag  = "schedule_lag"
)

// Metrics lists every metric in the order it is written.
var Metrics = []string{MetricTTFT, MetricE2EL, MetricITL, MetricTPOT,
	MetricQueryLatency, MetricResponseTime, MetricScheduleLag}

// Rate is an arrival rate in queries per second. +Inf (all arrivals due at
// once) is written as the JSON string "inf", as vLLM writes request_rate.
type Rate float64

// Inf is the infinite rate.
var Inf = Rate(math.Inf(1))

// IsInf reports whether r is the infinite rate.
func (r Rate) IsInf() bool { return math.IsInf(float64(r), 1) }

// String renders the rate as vLLM does: "inf" or a plain number.
func (r Rate) String() string {
	if r.IsInf() {
		return "inf"
	}
	return strconv.FormatFloat(float64(r), 'g', -1, 64)
}

// MarshalJSON writes "inf" for the infinite rate and a number otherwise.
func (r Rate) MarshalJSON() ([]byte, error) {
	if r.IsInf() {
		return []byte(`"inf"`), nil
	}
	return json.Marshal(float64(r))
}

// UnmarshalJSON accepts a number or the string "inf".
func (r *Rate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "inf" {
			return fmt.Errorf("request rate %q: want a number or \"inf\"", s)
		}
		*r = Inf
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("request rate: %w", err)
	}
	*r = Rate(f)
	return nil
}

// Stats summarises one latency metric over a phase, in milliseconds.
// Percentiles come from an HDR histogram (3 significant digits).
type Stats struct {
	Count  int64
	Mean   float64
	Median float64
	Std    float64
	Min    float64
	Max    float64
	P50    float64
	P90    float64
	P95    float64
	P99    float64
	P999   float64
}

// statKeys pairs each key prefix with its field, in vLLM's naming.
func (s *Stats) statKeys() []struct {
	prefix string
	v      *float64
} {
	return []struct {
		prefix string
		v      *float64
	}{
		{"mean", &s.Mean}, {"median", &s.Median}, {"std", &s.Std},
		{"min", &s.Min}, {"max", &s.Max}, {"p50", &s.P50}, {"p90", &s.P90},
		{"p95", &s.P95}, {"p99", &s.P99}, {"p99.9", &s.P999},
	}
}

// ErrorCount counts failed requests of one kind, with one sample message.
type ErrorCount struct {
	Count  int    `json:"count"`
	Sample string `json:"sample"`
}

// Ramp is a linear or exponential change of the arrival rate from From to
// To over the phase.
type Ramp struct {
	Strategy string  `json:"strategy"` // "linear" or "exponential"
	From     float64 `json:"from"`
	To       float64 `json:"to"`
}

// SLO holds the goodput thresholds; a zero field is not checked.
type SLO struct {
	TTFTMs         float64 `json:"ttft_ms,omitempty"`
	E2ELMs         float64 `json:"e2el_ms,omitempty"`
	QueryLatencyMs float64 `json:"query_latency_ms,omitempty"`
}

// RequestLevel reports whether s checks single requests (TTFT or E2E).
func (s *SLO) RequestLevel() bool { return s != nil && (s.TTFTMs > 0 || s.E2ELMs > 0) }

// Any reports whether s checks anything at all.
func (s *SLO) Any() bool { return s.RequestLevel() || s != nil && s.QueryLatencyMs > 0 }

// Quality holds reranking results: how well the server ranked documents
// (when the dataset has relevance labels) and how often "yes"/"no" were
// missing from the returned logprobs.
type Quality struct {
	ScoredDocuments int64    `json:"scored_documents"`
	MissingYes      int64    `json:"missing_yes"`
	MissingNo       int64    `json:"missing_no"`
	TopN            int      `json:"top_n"`
	NDCG            *float64 `json:"ndcg,omitempty"` // mean NDCG@top_n over labelled queries
	MRR             *float64 `json:"mrr,omitempty"`
	LabelledQueries int      `json:"labelled_queries"`
}

// PhaseResult is the outcome of one load phase, written as <phase>.json.
// Keys follow `vllm bench serve` where it has them; latency statistics are
// flattened to <stat>_<metric>_ms keys (mean_ttft_ms, p99.9_e2el_ms, …).
type PhaseResult struct {
	SchemaVersion int    `json:"schema_version"`
	Simulated     bool   `json:"simulated"`
	Config        string `json:"config,omitempty"`
	Phase         string `json:"phase"`
	ModelID       string `json:"model_id"`
	Arrival       string `json:"arrival"`
	// RequestRate is the target arrival rate of queries (number or "inf").
	RequestRate    Rate    `json:"request_rate"`
	Burstiness     float64 `json:"burstiness"`
	MaxConcurrency *int    `json:"max_concurrency"`
	Ramp           *Ramp   `json:"ramp,omitempty"`
	// RateShare is the share of the configuration's capacity a relative
	// rate asked for (0.75 for "rate: 75%"; RequestRate holds the q/s it
	// came to), and RampShare the shares of a relative ramp; RateBasis
	// names the capacity they are shares of.
	RateShare float64    `json:"rate_share,omitempty"`
	RampShare *Ramp      `json:"ramp_share,omitempty"`
	RateBasis *RateBasis `json:"rate_basis,omitempty"`
	Seed      int64      `json:"seed"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   time.Time  `json:"ended_at"`
	// EndReason says why the phase ended: "completed", "duration",
	// "interrupted", "server_exited", "error" or "saturated".
	EndReason string `json:"end_reason"`
	// Duration is from the first scheduled arrival to the last completion,
	// in seconds (excluding warmup).
	Duration          float64 `json:"duration"`
	Completed         int     `json:"completed"`
	Failed            int     `json:"failed"`
	TotalInputTokens  int64   `json:"total_input_tokens"`
	TotalOutputTokens int64   `json:"total_output_tokens"`
	RequestThroughput float64 `json:"request_throughput"`
	// RequestGoodput is requests/s meeting the TTFT and E2E SLOs; null
	// unless one of them is set (as vLLM leaves it).
	RequestGoodput       *float64 `json:"request_goodput"`
	OutputThroughput     float64  `json:"output_throughput"`
	TotalTokenThroughput float64  `json:"total_token_throughput"`
	QueriesCompleted     int      `json:"queries_completed"`
	QueriesFailed        int      `json:"queries_failed"`
	// QueriesPlanned is the number of measured queries the phase was to
	// send (0: bounded by its duration only), so that a phase that ended
	// early says how far it got.
	QueriesPlanned  int     `json:"queries_planned,omitempty"`
	QueryThroughput float64 `json:"query_throughput"`
	// QueryGoodput is queries/s whose latency meets query_latency_ms and
	// whose every request meets the TTFT and E2E SLOs; null without SLOs.
	QueryGoodput *float64 `json:"query_goodput"`
	// AchievedRate is the arrival rate actually dispatched (queries/s).
	AchievedRate float64 `json:"achieved_rate"`
	// LateArrivals counts arrivals sent more than LateThresholdMs after
	// their scheduled time (concurrency cap reached, client stalled).
	LateArrivals    int     `json:"late_arrivals"`
	LateThresholdMs float64 `json:"late_threshold_ms"`
	WarmupQueries   int     `json:"warmup_queries"`
	// DatasetCycles is how many times the dataset wrapped; with prefix
	// caching on, repeated prompts hit the cache.
	DatasetCycles int `json:"dataset_cycles"`
	// PromptMethod is how prompts were truncated: "tokenize" (server
	// /tokenize) or "chars" (character fallback).
	PromptMethod string                `json:"prompt_method,omitempty"`
	Errors       map[string]ErrorCount `json:"errors"`
	SLO          *SLO                  `json:"slo,omitempty"`
	Quality      *Quality              `json:"quality,omitempty"`
	// ServerMetrics is what the server's /metrics said about the phase.
	ServerMetrics *ServerMetrics `json:"server_metrics,omitempty"`
	// Saturation is the evidence on which a phase was stopped as past
	// capacity (EndReason "saturated"); nil otherwise.
	Saturation *Saturation `json:"saturation,omitempty"`
	// CapacityAtSLO is the highest arrival rate (queries/s) at which the
	// SLO of a search phase held, and Search the search that found it;
	// both nil for other phases.
	CapacityAtSLO *float64      `json:"capacity_at_slo,omitempty"`
	Search        *SearchResult `json:"search,omitempty"`
	Warnings      []string      `json:"warnings,omitempty"`
	// NeuronCores is the core group the server ran on (server.neuron_cores;
	// "" when the sweep did not pin cores).
	NeuronCores string `json:"neuron_cores,omitempty"`
	// ConcurrentWith names the configurations whose servers ran on other
	// core groups at some time during this phase: they shared the host's
	// CPUs (the load client, vLLM's CPU sampling, a compile) and may have
	// interfered with its numbers.
	ConcurrentWith []string `json:"concurrent_with,omitempty"`
	// Client is set when this result is one client's share of a phase
	// whose load was split across clients; the phase as a whole is in it.
	Client *ClientShare `json:"client,omitempty"`
	// Clients is set in a phase merged from its clients' shares: each
	// client's own window and figures, by index.
	Clients []ClientFigures `json:"clients,omitempty"`
	// Latency holds the statistics of each metric in Metrics, keyed by
	// metric name; it is flattened into the top-level JSON object.
	Latency map[string]Stats `json:"-"`
}

// phaseResultFields is PhaseResult without its methods, for the default
// encoding of the non-flattened fields.
type phaseResultFields PhaseResult

// MarshalJSON writes the struct fields followed by the flattened latency
// statistics, in the order of Metrics.
func (r PhaseResult) MarshalJSON() ([]byte, error) {
	base, err := json.Marshal(phaseResultFields(r))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(base[:len(base)-1]) // drop the closing brace
	for _, m := range Metrics {
		s, ok := r.Latency[m]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, ",%q:%d", "count_"+m, s.Count)
		for _, k := range s.statKeys() {
			v, err := json.Marshal(finite(*k.v))
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, ",%q:%s", k.prefix+"_"+m+"_ms", v)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the struct fields and gathers the flattened latency
// statistics back into Latency.
func (r *PhaseResult) UnmarshalJSON(data []byte) error {
	var f phaseResultFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*r = PhaseResult(f)
	r.Latency = map[string]Stats{}
	for _, m := range Metrics {
		raw, ok := all["count_"+m]
		if !ok {
			continue
		}
		var s Stats
		if err := json.Unmarshal(raw, &s.Count); err != nil {
			return fmt.Errorf("count_%s: %w", m, err)
		}
		for _, k := range s.statKeys() {
			key := k.prefix + "_" + m + "_ms"
			if raw, ok := all[key]; ok {
				if err := json.Unmarshal(raw, k.v); err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
			}
		}
		r.Latency[m] = s
	}
	return nil
}

// finite maps NaN and ±Inf to 0 so that the JSON stays valid.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
