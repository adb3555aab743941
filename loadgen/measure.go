package loadgen

import (
	"context"
	"net/http"

	"loadgen/loadgen/schema"
	"loadgen/server"
)

// serverMeasure is the server side of a phase: a /metrics scrape when the
// measured part starts, gauges sampled during it, and a scrape at its end.
type serverMeasure struct {
	started bool
	before  *server.Snapshot
	err     error
	sampler *server.Sampler
}

func (m *serverMeasure) start(ctx context.Context, client *http.Client, base string) {
	m.started = true
	m.before, m.err = server.Scrape(ctx, client, base)
	m.sampler = server.StartSampler(ctx, client, base, MetricsInterval)
}

// stop ends the sampling and returns what the server reported over the
// measured part (nil when it has no /metrics). The final scrape is made even
// after an interrupt, bounded by the client's timeout.
func (m *serverMeasure) stop(ctx context.Context, client *http.Client, base string) *schema.ServerMetrics {
	if !m.started {
		return nil
	}
	running, waiting, kv := m.sampler.Stop()
	if m.err != nil {
		return nil
	}
	after, err := server.Scrape(context.WithoutCancel(ctx), client, base)
	if err != nil {
		return nil
	}
	pm := after.Since(m.before)
	pm.Running, pm.Waiting, pm.KVCache = running, waiting, kv
	return pm
}
