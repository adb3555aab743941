package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/server/servertest"
)

// TestPhaseClients runs a phase split across two clients in one process
// (clients: 2) and checks the merged result against the union of the two
// clients' request logs: totals, and every TTFT and E2E percentile within
// HDR precision; the clients sent disjoint queries, each at half the rate
// with its own seed; the merged .hlog holds every value (report --check).
func TestPhaseClients(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "clients", `configs:
  - name: a
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - name: split
    arrival: poisson
    rate: 40
    queries: 30
    warmup: 2
    seed: 3
    clients: 2
`)
	o, _ := simOptions(t, p)
	o.RequestsLog = true
	out := runSweep(t, o)
	if out.Passed != 1 {
		t.Fatalf("outcome %+v", *out)
	}
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("a", "split")), &res)
	logs := []string{filepath.Join(o.Out, "a", "split.client-0.requests.jsonl"), filepath.Join(o.Out, "a", "split.client-1.requests.jsonl")}
	raw := servertest.ReadRequestLogs(t, logs...)
	if res.QueriesCompleted != 30 || res.Completed != 60 || res.WarmupQueries != 2 || raw.Requests != 60 || len(raw.Queries) != 30 {
		t.Errorf("merged: %d queries, %d requests, %d warmup; the logs: %d requests for %d distinct queries; want 30, 60, 2, 60, 30",
			res.QueriesCompleted, res.Completed, res.WarmupQueries, raw.Requests, len(raw.Queries))
	}
	if res.RequestRate != 40 || res.Seed != 3 || len(res.Clients) != 2 || res.Clients[0].Rate != 20 || res.Clients[0].Seed == res.Clients[1].Seed || res.Client != nil {
		t.Errorf("merged phase: rate %v seed %d, clients %+v; want 40 and 3, two clients at 20 q/s with their own seeds", res.RequestRate, res.Seed, res.Clients)
	}
	servertest.CheckLatency(t, res, raw)
	for _, name := range []string{"split.hlog", "split.scores.jsonl"} {
		if _, err := os.Stat(filepath.Join(o.Out, "a", name)); err != nil {
			t.Error(err)
		}
	}
	if left, _ := schema.TempFiles(filepath.Join(o.Out, "a")); len(left) > 0 {
		t.Errorf("scratch files left behind: %v", left)
	}
	sw, err := report.Load(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	if probs := sw.Check(); len(probs) > 0 {
		t.Errorf("report --check: %q", probs)
	}
}

// TestClientShareRefused: a share that the phase cannot be split into is
// refused before anything starts.
func TestClientShareRefused(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "share", twoConfigs+`load:
  - arrival: sync
`)
	o, _ := simOptions(t, p)
	o.Client = &schema.Part{Index: 0, Count: 2}
	_, err := preflightRun(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "--client 0/2: phase sync: a sync phase sends one query at a time") {
		t.Errorf("a share of a sync phase: %v", err)
	}
}
