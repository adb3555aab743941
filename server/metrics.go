package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"loadgen/loadgen/bounded"
	"loadgen/loadgen/schema"
)

// ErrNoMetrics is returned by Scrape when the server has no /metrics
// endpoint (404). That is not a failure: the run just has no server-side
// metrics.
var ErrNoMetrics = errors.New("server has no /metrics endpoint")

// vLLM's metric names (vllm/v1/metrics/loggers.py). Counters carry the
// _total suffix; deprecated names are read when the current ones are
// absent.
const (
	metricPromptTokens     = "vllm:prompt_tokens_total"
	metricGenerationTokens = "vllm:generation_tokens_total"
	metricRequestSuccess   = "vllm:request_success_total"
	metricPreemptions      = "vllm:num_preemptions_total"
	metricPrefixQueries    = "vllm:prefix_cache_queries_total"
	metricPrefixHits       = "vllm:prefix_cache_hits_total"
	metricPrefixQueriesOld = "vllm:gpu_prefix_cache_queries_total"
	metricPrefixHitsOld    = "vllm:gpu_prefix_cache_hits_total"
	metricTTFT             = "vllm:time_to_first_token_seconds"
	metricQueueTime        = "vllm:request_queue_time_seconds"
	metricE2E              = "vllm:e2e_request_latency_seconds"
	metricPrefill          = "vllm:request_prefill_time_seconds"
	metricRunning          = "vllm:num_requests_running"
	metricWaiting          = "vllm:num_requests_waiting"
	metricKVCache          = "vllm:kv_cache_usage_perc"
	metricKVCacheOld       = "vllm:gpu_cache_usage_perc"
)

// MaxMetricsBody bounds the body of one /metrics scrape. vLLM's exposition
// is tens of KiB (histograms included); a larger one is cut off with an
// error rather than read without end. It is fixed (README.md, "Limits").
const MaxMetricsBody = 16 << 20

// Snapshot is one parsed scrape of a server's /metrics.
type Snapshot struct {
	// Time is when the scrape was parsed.
	Time     time.Time
	families map[string]*dto.MetricFamily
}

// Scrape fetches baseURL/metrics and parses it with Prometheus' text
// parser. A 404 returns ErrNoMetrics. client nil means
// http.DefaultClient.
func Scrape(ctx context.Context, client *http.Client, baseURL string) (*Snapshot, error) {
	if client == nil {
		client = http.DefaultClient
	}
	url := strings.TrimRight(baseURL, "/") + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrNoMetrics
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("scrape %s: %s: %s", url, resp.Status, bounded.Quote(resp.Body, 200))
	}
	// The whole body first: the parser may stop at a read error and
	// report something else.
	body, err := bodyLimit(req, MaxMetricsBody).ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	s, err := ParseMetrics(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return s, nil
}

// ParseMetrics parses a Prometheus text exposition (what /metrics serves).
func ParseMetrics(r io.Reader) (s *Snapshot, err error) {
	// expfmt v0.70.0 dereferences nil on some malformed input (e.g. a
	// line "{}" after a TYPE line; fixed upstream in v0.73): a broken
	// server must not take loadgen down with it.
	defer func() {
		if v := recover(); v != nil {
			s, err = nil, fmt.Errorf("parse metrics: malformed exposition (parser panic: %v)", v)
		}
	}()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return &Snapshot{Time: time.Now(), families: fams}, nil
}

// family returns the first of names that the snapshot holds. A counter
// named x_total may be exposed as family x (OpenMetrics style), so the
// name without _total is tried too.
func (s *Snapshot) family(names ...string) *dto.MetricFamily {
	if s == nil {
		return nil
	}
	for _, n := range names {
		if f, ok := s.families[n]; ok {
			return f
		}
		if f, ok := s.families[strings.TrimSuffix(n, "_total")]; ok {
			return f
		}
	}
	return nil
}

// value is the sample value of a counter, gauge or untyped metric.
func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

// Sum returns the sum over all series (label sets) of the counter, gauge
// or untyped metric name, and whether the snapshot has it.
func (s *Snapshot) Sum(name string) (float64, bool) {
	return sumOf(s.family(name))
}

// InSystem returns the requests the server holds, running and waiting,
// and whether it reports them.
func (s *Snapshot) InSystem() (float64, bool) {
	running, ok1 := s.Sum(metricRunning)
	waiting, ok2 := s.Sum(metricWaiting)
	return running + waiting, ok1 || ok2
}

// sumOf sums a family's series.
func sumOf(f *dto.MetricFamily) (float64, bool) {
	if f == nil {
		return 0, false
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if v := value(m); finite(v) {
			sum += v
		}
	}
	return sum, finite(sum)
}

// finite reports whether v is neither NaN nor infinite; non-finite values
// (which the text format allows) are left out of every figure.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// mean returns the mean over the series of the first family found.
func (s *Snapshot) mean(names ...string) (float64, bool) {
	f := s.family(names...)
	sum, ok := sumOf(f)
	if !ok || len(f.GetMetric()) == 0 {
		return 0, false
	}
	return sum / float64(len(f.GetMetric())), true
}

// sumBy sums a family's series grouped by the value of label.
func sumBy(f *dto.MetricFamily, label string) map[string]float64 {
	out := make(map[string]float64)
	for _, m := range f.GetMetric() {
		key := ""
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				key = lp.GetValue()
			}
		}
		if v := value(m); finite(v) {
			out[key] += v
		}
	}
	return out
}

// counterDelta is after−before for a counter; a counter that went down
// was reset (the server restarted), so its whole value is the delta.
func counterDelta(before, after float64) float64 {
	if after < before {
		return after
	}
	return after - before
}

// Since returns what the server reported between the scrapes before and
// after: counter deltas, latency histograms over the interval and the
// prefix-cache hit rate. before may be nil (everything since the server
// started). Fields of metrics the server does not export stay nil; the
// gauges are left to a Sampler.
func (after *Snapshot) Since(before *Snapshot) *schema.ServerMetrics {
	m := &schema.ServerMetrics{
		PromptTokens:       delta(before, after, metricPromptTokens),
		GenerationTokens:   delta(before, after, metricGenerationTokens),
		Preemptions:        delta(before, after, metricPreemptions),
		PrefixCacheQueries: delta(before, after, metricPrefixQueries, metricPrefixQueriesOld),
		PrefixCacheHits:    delta(before, after, metricPrefixHits, metricPrefixHitsOld),
		TTFT:               histogramSince(before, after, metricTTFT),
		QueueTime:          histogramSince(before, after, metricQueueTime),
		E2E:                histogramSince(before, after, metricE2E),
		Prefill:            histogramSince(before, after, metricPrefill),
	}
	if f := after.family(metricRequestSuccess); f != nil {
		prev := sumBy(before.family(metricRequestSuccess), "finished_reason")
		m.RequestsFinished = make(map[string]float64)
		for reason, v := range sumBy(f, "finished_reason") {
			m.RequestsFinished[reason] = counterDelta(prev[reason], v)
		}
	}
	if m.PrefixCacheQueries != nil && m.PrefixCacheHits != nil && *m.PrefixCacheQueries > 0 {
		if rate := *m.PrefixCacheHits / *m.PrefixCacheQueries; finite(rate) {
			m.PrefixCacheHitRate = &rate
		}
	}
	return m
}

// delta is the counter delta of the first of names that after holds, or
// nil.
func delta(before, after *Snapshot, names ...string) *float64 {
	for _, n := range names {
		a, ok := sumOf(after.family(n))
		if !ok {
			continue
		}
		b, _ := sumOf(before.family(n))
		d := counterDelta(b, a)
		if !finite(d) {
			return nil
		}
		return &d
	}
	return nil
}
