package sim

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"sync"
)

// Bucket bounds of vLLM's histograms (vllm/v1/metrics/loggers.py).
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
		0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	tpotBuckets = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
		1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	latencyBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0,
		40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
)

// build125Buckets is vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, …
// up to max.
func build125Buckets(maxValue int) []float64 {
	var out []float64
	for exp := 1.0; ; exp *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := m * exp
			if v > float64(maxValue) {
				return out
			}
			out = append(out, v)
		}
	}
}

// histogram is a Prometheus histogram: counts per bucket (not cumulative;
// the last slot is +Inf), sum and count.
type histogram struct {
	bounds []float64
	counts []uint64
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le is inclusive
	h.counts[i]++
	h.sum += v
	h.count++
}

// metrics holds the vllm:* counters and histograms. Gauges are read from
// the engine at scrape time.
type metrics struct {
	mu               sync.Mutex
	promptTokens     float64
	generationTokens float64
	success          map[string]float64
	preemptions      float64
	prefixQueries    float64
	prefixHits       float64
	ttft             *histogram
	tpot             *histogram
	e2e              *histogram
	queue            *histogram
	inference        *histogram
	prefill          *histogram
	decode           *histogram
	promptLen        *histogram
	genLen           *histogram
}

func newMetrics(maxModelLen int) *metrics {
	return &metrics{
		success:   map[string]float64{"stop": 0, "length": 0, "abort": 0},
		ttft:      newHistogram(ttftBuckets),
		tpot:      newHistogram(tpotBuckets),
		e2e:       newHistogram(latencyBuckets),
		queue:     newHistogram(latencyBuckets),
		inference: newHistogram(latencyBuckets),
		prefill:   newHistogram(latencyBuckets),
		decode:    newHistogram(latencyBuckets),
		promptLen: newHistogram(build125Buckets(maxModelLen)),
		genLen:    newHistogram(build125Buckets(maxModelLen)),
	}
}

// observeSeq records a finished (or aborted) sequence. itl are the gaps
// between its tokens.
func (m *metrics) observeSeq(s *seq, prefixCaching bool, itl []float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.success[s.reason]++
	if s.scheduled.IsZero() {
		return // aborted while waiting: never reached the engine's batch
	}
	m.promptTokens += float64(s.nPrompt)
	m.generationTokens += float64(s.generated)
	if prefixCaching {
		m.prefixQueries += float64(s.nPrompt)
		m.prefixHits += float64(s.cached)
	}
	if s.reason == "abort" {
		return
	}
	m.ttft.observe(s.firstToken.Sub(s.arrived).Seconds())
	m.e2e.observe(s.finished.Sub(s.arrived).Seconds())
	m.queue.observe(s.scheduled.Sub(s.arrived).Seconds())
	m.inference.observe(s.finished.Sub(s.scheduled).Seconds())
	m.prefill.observe(s.firstToken.Sub(s.scheduled).Seconds())
	m.decode.observe(s.finished.Sub(s.firstToken).Seconds())
	m.promptLen.observe(float64(s.nPrompt))
	m.genLen.observe(float64(s.generated))
	for _, d := range itl {
		m.tpot.observe(d)
	}
}

// gauges are the values sampled at scrape time.
type gauges struct {
	running, waiting, kvUsage float64
}

// render writes the Prometheus text exposition, in the shape
// prometheus_client gives vLLM's metrics (labels model_name, engine).
func (m *metrics) render(b *bytes.Buffer, model string, g gauges, cacheInfo [][2]string) {
	labels := `model_name="` + escapeLabel(model) + `",engine="0"`
	m.mu.Lock()
	defer m.mu.Unlock()
	gauge := func(name, help string, v float64) {
		b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n")
		b.WriteString(name + "{" + labels + "} " + pyFloat(v) + "\n")
	}
	counter := func(name, help string, v float64) {
		b.WriteString("# HELP " + name + "_total " + help + "\n# TYPE " + name + "_total counter\n")
		b.WriteString(name + "_total{" + labels + "} " + pyFloat(v) + "\n")
	}
	hist := func(name, help string, h *histogram) {
		b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n")
		var cum uint64
		for i, le := range h.bounds {
			cum += h.counts[i]
			b.WriteString(name + "_bucket{" + labels + `,le="` + pyFloat(le) + `"} ` + pyFloat(float64(cum)) + "\n")
		}
		b.WriteString(name + "_bucket{" + labels + `,le="+Inf"} ` + pyFloat(float64(h.count)) + "\n")
		b.WriteString(name + "_count{" + labels + "} " + pyFloat(float64(h.count)) + "\n")
		b.WriteString(name + "_sum{" + labels + "} " + pyFloat(h.sum) + "\n")
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", g.running)
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", g.waiting)
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", g.kvUsage)
	counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", m.prefixQueries)
	counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", m.prefixHits)
	counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", m.preemptions)
	counter("vllm:prompt_tokens", "Number of prefill tokens processed.", m.promptTokens)
	counter("vllm:generation_tokens", "Number of generation tokens processed.", m.generationTokens)
	b.WriteString("# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n")
	for _, r := range []string{"stop", "length", "abort"} {
		b.WriteString("vllm:request_success_total{" + labels + `,finished_reason="` + r + `"} ` + pyFloat(m.success[r]) + "\n")
	}
	hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", m.promptLen)
	hist("vllm:request_generation_tokens", "Number of generation tokens processed.", m.genLen)
	hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", m.ttft)
	hist("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", m.tpot)
	hist("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", m.e2e)
	hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", m.queue)
	hist("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", m.inference)
	hist("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", m.prefill)
	hist("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", m.decode)
	b.WriteString("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\nvllm:cache_config_info{")
	for i, kv := range cacheInfo {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[0] + `="` + escapeLabel(kv[1]) + `"`)
	}
	b.WriteString("} 1.0\n")
}

func escapeLabel(s string) string {
	if !bytes.ContainsAny([]byte(s), "\\\"\n") {
		return s
	}
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pyFloat formats v as Python's repr(float) does ("1.0", "0.005", "1e-05").
func pyFloat(v float64) string {
	return string(appendPyFloat(nil, v))
}

func appendPyFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(v):
		return append(dst, "nan"...)
	}
	a := math.Abs(v)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.AppendFloat(dst, v, 'e', -1, 64)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, v, 'f', -1, 64)
	if bytes.IndexByte(dst[n:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}
