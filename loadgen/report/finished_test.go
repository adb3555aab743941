package report

import (
	"strings"
	"testing"

	"loadgen/loadgen/schema"
)

// finishedSweep is two configs that passed: "base", whose phases
// finished, and "x", faster in both its sync (5.43 queries/s) and rate-inf
// (9.87 queries/s) phases, which ended with the given manifest status and
// end reason after 3 queries of planned.
func finishedSweep(status, end string, planned int) *Sweep {
	result := func(arrival string, qps float64, done int) *schema.PhaseResult {
		r := &schema.PhaseResult{Arrival: arrival, EndReason: end, QueriesCompleted: done, QueriesPlanned: planned,
			QueryThroughput: qps, Latency: map[string]schema.Stats{
				schema.MetricQueryLatency: {Count: int64(done), Mean: 1000 / qps, P50: 1000 / qps, P95: 1000 / qps, P99: 1000 / qps}}}
		if arrival == "inf" {
			r.RequestRate = schema.Inf
		}
		return r
	}
	base := ConfigResult{Name: "base", Status: schema.ConfigStatus{Name: "base", Status: schema.StatusOK}}
	for _, ph := range []*schema.PhaseResult{result("sync", 1.11, 10), result("inf", 2.22, 10)} {
		ph.EndReason, ph.QueriesPlanned = schema.EndCompleted, 10
		base.Phases = append(base.Phases, &Phase{Name: ph.Arrival, Status: schema.StatusOK, Result: ph})
	}
	x := ConfigResult{Name: "x", Status: schema.ConfigStatus{Name: "x", Status: schema.StatusOK}, Phases: []*Phase{
		{Name: "sync", Status: status, Result: result("sync", 5.43, 3)},
		{Name: "inf", Status: status, Result: result("inf", 9.87, 3)},
	}}
	return &Sweep{Manifest: &schema.Manifest{}, Configs: []ConfigResult{base, x}}
}

// TestOnlyFinishedPhasesRank checks that the ranking, the recommendation,
// the capacity comparison, the throughput plot and the offline comparison
// use a sync or rate-inf phase only when the manifest says ok and the
// engine says it ran to its end, and that the others say how far they got.
func TestOnlyFinishedPhasesRank(t *testing.T) {
	for _, tc := range []struct {
		name, status, end string
		planned           int
		ranked            bool
		why               string // how far it got, when not ranked
	}{
		// All its queries: ranked.
		{"completed", schema.StatusOK, schema.EndCompleted, 3, true, ""},
		// Its duration: ranked.
		{"duration", schema.StatusOK, schema.EndDuration, 0, true, ""},
		// Ctrl-C mid-phase: the partial result is left out.
		{"interrupted", schema.StatusInterrupted, schema.EndInterrupted, 12, false, "interrupted: 3 of 12 queries completed"},
		// The server died mid-phase.
		{"crashed", schema.StatusFailed, schema.EndServerExited, 12, false, "failed (server_exited): 3 of 12 queries completed"},
		// The engine completed but the manifest says the phase failed.
		{"manifest failed", schema.StatusFailed, schema.EndCompleted, 12, false, "failed: 3 of 12 queries completed"},
		// The manifest says ok but the engine ended on an error.
		{"engine error", schema.StatusOK, schema.EndError, 12, false, "error: 3 of 12 queries completed"},
		// A still-running status (crash of loadgen itself).
		{"running", schema.StatusRunning, schema.EndCompleted, 12, false, "running: 3 of 12 queries completed"},
		// A duration-bounded phase has no planned count.
		{"interrupted, duration-bounded", schema.StatusInterrupted, schema.EndInterrupted, 0, false, "interrupted: 3 queries completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := finishedSweep(tc.status, tc.end, tc.planned)
			sum := s.Summary()
			var x RankRow
			for _, r := range sum.Ranking {
				if r.Config == "x" {
					x = r
				}
			}
			wantRank, wantRec := 0, "base"
			if tc.ranked {
				wantRank, wantRec = 1, "x"
			}
			if x.Rank != wantRank {
				t.Errorf("x ranked %d, want %d (reason %q)", x.Rank, wantRank, x.Reason)
			}
			if !tc.ranked && x.Reason != "phase sync not ranked ("+tc.why+")" {
				t.Errorf("x reason %q, want it to say %q", x.Reason, tc.why)
			}
			if sum.Recommendation.Config != wantRec {
				t.Errorf("recommended %q, want %q", sum.Recommendation.Config, wantRec)
			}
			reasons := strings.Join(sum.Recommendation.Reasons, "\n")
			if !tc.ranked {
				// base's capacity is compared with finished phases only.
				mustContain(t, "reasons", reasons, "Capacity at rate inf (phase inf): 2.22 queries/s.")
				if strings.Contains(reasons, "9.87") {
					t.Errorf("reasons cite x's partial capacity:\n%s", reasons)
				}
				if x := s.Config("x"); !strings.Contains(capacityReason(s, x), "Capacity was not measured: phase inf not ranked ("+tc.why+")") {
					t.Errorf("x capacity: %q", capacityReason(s, x))
				}
			}
			if svg := throughputPlot(sum).SVG; strings.Contains(svg, "9.87") != tc.ranked || strings.Contains(svg, "5.43") != tc.ranked {
				t.Errorf("throughput plot shows x's partial numbers: %t, want %t", !tc.ranked, tc.ranked)
			}

			off := []OfflineResult{offlineNamed("base", false, true, ""), offlineNamed("x", false, false, "")}
			off[0].Metrics.ThroughputQueriesPerSec, off[1].Metrics.ThroughputQueriesPerSec = 1, 2
			c := CompareOffline(off, s)
			row := c.Rows[1]
			wantN := 1
			if tc.ranked {
				wantN = 2
			}
			if c.Sync.N != wantN || c.Capacity.N != wantN {
				t.Errorf("Kendall's tau over %d (sync) and %d (capacity) configs, want %d", c.Sync.N, c.Capacity.N, wantN)
			}
			if (row.Sync != nil) != tc.ranked || (row.Capacity != nil) != tc.ranked {
				t.Errorf("offline row for x: sync %v capacity %v, want present %t", row.Sync, row.Capacity, tc.ranked)
			}
			if !tc.ranked && (row.SyncNote != "phase sync not ranked ("+tc.why+")" || row.CapacityNote != "phase inf not ranked ("+tc.why+")") {
				t.Errorf("offline notes %q, %q", row.SyncNote, row.CapacityNote)
			}
		})
	}
}
