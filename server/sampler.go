package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"loadgen/loadgen/schema"
)

// Sampler scrapes a server's gauges (requests running and waiting, KV
// cache usage) at a fixed interval during a load phase.
type Sampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	// Owned by the sampling goroutine until done is closed.
	running, waiting, kvcache gaugeAcc
}

// StartSampler scrapes baseURL/metrics at once and then every `every`
// until Stop (or ctx is done). Failed scrapes are skipped: a server
// without /metrics simply yields no samples. client nil means
// http.DefaultClient.
func StartSampler(ctx context.Context, client *http.Client, baseURL string, every time.Duration) *Sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &Sampler{cancel: cancel, done: make(chan struct{})}
	if every <= 0 {
		every = time.Second
	}
	go s.loop(ctx, client, baseURL, every)
	return s
}

func (s *Sampler) loop(ctx context.Context, client *http.Client, baseURL string, every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		s.sample(ctx, client, baseURL, every)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sample takes one scrape, bounded by the sampling interval.
func (s *Sampler) sample(ctx context.Context, client *http.Client, baseURL string, every time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, max(every, time.Second))
	defer cancel()
	snap, err := Scrape(ctx, client, baseURL)
	if err != nil {
		return
	}
	if v, ok := snap.Sum(metricRunning); ok {
		s.running.add(v)
	}
	if v, ok := snap.Sum(metricWaiting); ok {
		s.waiting.add(v)
	}
	if v, ok := snap.mean(metricKVCache, metricKVCacheOld); ok {
		s.kvcache.add(v)
	}
}

// Stop ends sampling and returns the summaries of the requests running,
// the requests waiting and the KV cache usage (0..1); each is nil when no
// sample had it. Stop is idempotent.
func (s *Sampler) Stop() (running, waiting, kvcache *schema.GaugeSummary) {
	s.once.Do(s.cancel)
	<-s.done
	return s.running.summary(), s.waiting.summary(), s.kvcache.summary()
}

// gaugeAcc accumulates gauge samples.
type gaugeAcc struct {
	n        int
	sum, max float64
}

func (g *gaugeAcc) add(v float64) {
	if g.n == 0 || v > g.max {
		g.max = v
	}
	g.n++
	g.sum += v
}

// summary returns the samples' count, mean and max, or nil without any.
func (g *gaugeAcc) summary() *schema.GaugeSummary {
	if g.n == 0 {
		return nil
	}
	return &schema.GaugeSummary{Samples: g.n, Mean: g.sum / float64(g.n), Max: g.max}
}
