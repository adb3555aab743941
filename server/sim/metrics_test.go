package sim

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sample is one line of the Prometheus text format.
type sample struct {
	labels map[string]string
	value  float64
}

var sampleRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrape parses the text exposition (prometheus/common's parser needs
// protobuf, which go.sum does not carry) and checks every sample line has
// HELP and TYPE for its family.
func scrape(t *testing.T, get func() string) map[string][]sample {
	t.Helper()
	out := map[string][]sample{}
	types := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(get()), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			types[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleRe.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad sample line %q", line)
		}
		family := m[1]
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(family, suf); ok && types[base] == "histogram" {
				family = base
			}
		}
		if types[family] == "" {
			t.Fatalf("sample %q has no TYPE line", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("value in %q: %v", line, err)
		}
		labels := map[string]string{}
		for _, l := range labelRe.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		out[m[1]] = append(out[m[1]], sample{labels, v})
	}
	return out
}

// value returns the sample of name whose labels include want.
func value(t *testing.T, mf map[string][]sample, name string, want ...string) float64 {
	t.Helper()
	for _, s := range mf[name] {
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			ok = ok && s.labels[want[i]] == want[i+1]
		}
		if ok {
			return s.value
		}
	}
	t.Fatalf("%s%v missing", name, want)
	return 0
}

// TestMetrics checks /metrics: vLLM's names and labels, counter and
// histogram semantics (cumulative buckets, count = +Inf bucket, sum), and
// values that agree with the server's own Stats.
func TestMetrics(t *testing.T) {
	s, ts := newTestServer(t, func(o *Options) {
		o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 256
		o.Override = map[string]any{"on_device_sampling_config": nil, "is_prefix_caching": true, "is_block_kv_layout": true}
	})
	get := func() string { _, b := do(t, ts, "GET", "/metrics", ""); return b }
	before := scrape(t, get)
	for _, n := range []string{"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
		"vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total", "vllm:num_preemptions_total",
		"vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:time_to_first_token_seconds",
		"vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds", "vllm:request_prefill_time_seconds", "vllm:cache_config_info"} {
		key := n
		if strings.HasSuffix(n, "_seconds") {
			key = n + "_count"
		}
		samples, ok := before[key]
		if !ok {
			t.Fatalf("%s missing", n)
		}
		if l := samples[0].labels; n != "vllm:cache_config_info" && (l["model_name"] != "rr" || l["engine"] != "0") {
			t.Fatalf("%s labels %v", n, l)
		}
	}
	if value(t, before, "vllm:prompt_tokens_total") != 0 {
		t.Fatal("counters do not start at 0")
	}
	prompt := rerankPrompt("flood cover", strings.Repeat("flood damage cover ", 30))
	body := mustJSONBody(t, map[string]any{"prompt": []string{prompt, prompt, prompt}, "max_tokens": 2})
	if st, b := do(t, ts, "POST", "/v1/completions", body); st != 200 {
		t.Fatalf("completion %d %s", st, b)
	}
	after := scrape(t, get)
	st := s.Stats()
	if got := value(t, after, "vllm:prompt_tokens_total"); got != float64(st.PromptTokens) || got != float64(3*CountTokens(prompt)) {
		t.Fatalf("prompt_tokens_total %v, stats %d", got, st.PromptTokens)
	}
	if got := value(t, after, "vllm:generation_tokens_total"); got != 6 {
		t.Fatalf("generation_tokens_total %v, want 6", got)
	}
	if got := value(t, after, "vllm:request_success_total", "finished_reason", "length"); got != 3 {
		t.Fatalf("request_success_total{length} %v, want 3", got)
	}
	// The 2nd and 3rd identical prompts hit the blocks the 1st cached.
	q, h := value(t, after, "vllm:prefix_cache_queries_total"), value(t, after, "vllm:prefix_cache_hits_total")
	if q != float64(3*CountTokens(prompt)) || h != float64(st.CachedTokens) || h < 2*32*float64((CountTokens(prompt)-1)/32) {
		t.Fatalf("prefix cache queries %v hits %v (stats %d)", q, h, st.CachedTokens)
	}
	for _, name := range []string{"vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds", "vllm:request_prefill_time_seconds"} {
		if c := value(t, after, name+"_count"); c != 3 {
			t.Fatalf("%s count %v, want 3", name, c)
		}
		prev := 0.0
		for _, b := range after[name+"_bucket"] {
			if b.value < prev {
				t.Fatalf("%s buckets not cumulative", name)
			}
			prev = b.value
		}
		if b := after[name+"_bucket"]; b[len(b)-1].labels["le"] != "+Inf" || prev != 3 {
			t.Fatalf("%s last bucket %v = %v, want +Inf = 3", name, b[len(b)-1].labels, prev)
		}
	}
	// TTFT's sum is the sum of the server's own TTFTs.
	var ttft float64
	for _, sq := range st.Seqs {
		ttft += sq.TTFT().Seconds()
	}
	if got := value(t, after, "vllm:time_to_first_token_seconds_sum"); math.Abs(got-ttft) > 1e-9 {
		t.Fatalf("ttft sum %v, stats %v", got, ttft)
	}
	// TTFT bounds are vLLM's.
	if b := after["vllm:time_to_first_token_seconds_bucket"]; b[0].labels["le"] != "0.001" || b[len(b)-2].labels["le"] != "2560.0" {
		t.Fatalf("ttft buckets %v … %v", b[0].labels, b[len(b)-2].labels)
	}
	if value(t, after, "vllm:num_requests_running") != 0 || value(t, after, "vllm:num_requests_waiting") != 0 {
		t.Fatal("gauges not back to 0 after the requests finished")
	}
}

// TestHistogramObserve checks that le is inclusive and +Inf catches the
// rest.
func TestHistogramObserve(t *testing.T) {
	h := newHistogram([]float64{0.1, 1})
	for _, v := range []float64{0.1, 0.5, 1, 2} {
		h.observe(v)
	}
	if h.counts[0] != 1 || h.counts[1] != 2 || h.counts[2] != 1 || h.count != 4 || h.sum != 3.6 {
		t.Fatalf("histogram %+v", h)
	}
	if got := build125Buckets(2048); got[len(got)-1] != 2000 || got[0] != 1 || got[1] != 2 || got[2] != 5 {
		t.Fatalf("1-2-5 buckets %v", got)
	}
}

// TestPyFloat checks Python's float repr on the values /metrics prints.
func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0", 1: "1.0", 0.005: "0.005", 1e-5: "1e-05", 2560: "2560.0", -0.25: "-0.25"} {
		if got := pyFloat(v); got != want {
			t.Errorf("pyFloat(%v) = %q, want %q", v, got, want)
		}
	}
}
