package schema

// ServerMetrics is what the server itself reported over one load phase: the
// difference of two /metrics scrapes (before and after) plus gauges sampled
// during the phase. A field is nil when the server does not export the
// metric; a server without /metrics yields no ServerMetrics at all.
type ServerMetrics struct {
	PromptTokens     *float64 `json:"prompt_tokens,omitempty"`
	GenerationTokens *float64 `json:"generation_tokens,omitempty"`
	// RequestsFinished counts finished requests by finished_reason.
	RequestsFinished   map[string]float64 `json:"requests_finished,omitempty"`
	Preemptions        *float64           `json:"preemptions,omitempty"`
	PrefixCacheQueries *float64           `json:"prefix_cache_queries,omitempty"`
	PrefixCacheHits    *float64           `json:"prefix_cache_hits,omitempty"`
	// PrefixCacheHitRate is Δhits/Δqueries (nil when there were no queries).
	PrefixCacheHitRate *float64 `json:"prefix_cache_hit_rate,omitempty"`

	// Server-side latency histograms over the phase (bucket deltas).
	TTFT      *HistogramSummary `json:"ttft,omitempty"`       // vllm:time_to_first_token_seconds
	QueueTime *HistogramSummary `json:"queue_time,omitempty"` // vllm:request_queue_time_seconds
	E2E       *HistogramSummary `json:"e2e,omitempty"`        // vllm:e2e_request_latency_seconds
	Prefill   *HistogramSummary `json:"prefill,omitempty"`    // vllm:request_prefill_time_seconds

	// Gauges sampled during the phase.
	Running *GaugeSummary `json:"running,omitempty"` // vllm:num_requests_running
	Waiting *GaugeSummary `json:"waiting,omitempty"` // vllm:num_requests_waiting
	KVCache *GaugeSummary `json:"kv_cache_usage,omitempty"`
}

// HistogramSummary summarises the delta of a Prometheus histogram between
// two scrapes. Quantiles are interpolated linearly within buckets, as
// Prometheus' histogram_quantile does. All times are in milliseconds.
type HistogramSummary struct {
	Count  float64 `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
}

// GaugeSummary summarises samples of a gauge taken during a phase.
type GaugeSummary struct {
	Samples int     `json:"samples"`
	Mean    float64 `json:"mean"`
	Max     float64 `json:"max"`
}
