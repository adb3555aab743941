package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

func TestSampler(t *testing.T) {
	t.Parallel()
	// Scrapes 1..3 answer running = 2n, waiting = n, KV usage averaged
	// over two engines. The sampler scrapes one at a time, so when the 4th
	// scrape arrives the first three are recorded; it hangs until Stop
	// cancels it, so exactly three samples count, however the timing falls.
	var n atomic.Int32
	fourth := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if k > 3 {
			if k == 4 {
				close(fourth)
			}
			<-r.Context().Done()
			return
		}
		fmt.Fprintf(w, "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\"} %d\n", 2*k)
		fmt.Fprintf(w, "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{engine=\"0\"} %d\n", k)
		fmt.Fprintf(w, "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine=\"0\"} 0.2\nvllm:kv_cache_usage_perc{engine=\"1\"} %v\n", 0.2*float64(k))
	}))
	defer srv.Close()

	s := StartSampler(context.Background(), srv.Client(), srv.URL, time.Millisecond)
	<-fourth
	running, waiting, kv := s.Stop()
	check := func(name string, g *schema.GaugeSummary, mean, max float64) {
		t.Helper()
		if g == nil || g.Samples != 3 || !near(g.Mean, mean) || !near(g.Max, max) {
			t.Errorf("%s = %+v, want 3 samples, mean %v, max %v", name, g, mean, max)
		}
	}
	check("running", running, 4, 6)
	check("waiting", waiting, 2, 3)
	check("kv cache", kv, 0.3, 0.4)
	// Stop is idempotent.
	if r2, _, _ := s.Stop(); r2 == nil || r2.Samples != 3 {
		t.Errorf("second Stop = %+v", r2)
	}
}

func TestSampler_noMetrics(t *testing.T) {
	t.Parallel()
	hits := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
		select {
		case hits <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	s := StartSampler(context.Background(), srv.Client(), srv.URL, time.Millisecond)
	for range 3 {
		<-hits
	}
	// A server without /metrics yields no gauges, not an error.
	if r, w, kv := s.Stop(); r != nil || w != nil || kv != nil {
		t.Errorf("Stop() = %+v, %+v, %+v; want nils", r, w, kv)
	}
}

// near compares floats to 1e-9.
func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
