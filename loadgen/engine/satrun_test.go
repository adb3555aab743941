package engine

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// serialServer is a fake server that serves one request at a time, in
// arrival order, each taking service: a queue that grows without bound
// past 1/service requests a second. An aborted request leaves the queue,
// as vLLM drops a request whose client went away.
type serialServer struct {
	service time.Duration
	mu      sync.Mutex
	free    time.Time // when the server is next free
}

func (s *serialServer) do(ctx context.Context, _ *workload.Request, r *Result, now func() time.Duration) {
	s.mu.Lock()
	start := time.Now()
	if s.free.After(start) {
		start = s.free
	}
	done := start.Add(s.service)
	s.free = done
	s.mu.Unlock()
	answerAfter(ctx, time.Until(done), r, now)
}

// TestRunSaturationStop: a phase past capacity stops early with the
// evidence, and what the stop cut off is counted as cut, not as failed;
// a phase below capacity runs to its end.
func TestRunSaturationStop(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		ph     Phase
		end    string
		reason string
	}{
		// 20 q/s into 10 q/s, 200 planned, p99 ≤ 500 ms: two misses are
		// allowed, the third is certain within a few seconds.
		{"exact", Phase{Name: "x", Arrival: schema.ArrivalPoisson, Rate: 20, Queries: 200, Seed: 1,
			Saturation: &SaturationStop{Latency: 500 * ms, Exact: true}}, schema.EndSaturated, schema.SaturatedSLOMiss},
		// 15 q/s into 10 q/s for 60 s, not exact: the queue grows by
		// 5 q/s and latency passes 3 × 500 ms.
		{"growth", Phase{Name: "g", Arrival: schema.ArrivalPoisson, Rate: 15, Duration: time.Minute, Seed: 2,
			Saturation: &SaturationStop{Latency: 500 * ms}}, schema.EndSaturated, schema.SaturatedGrowth},
		// 5 q/s into 10 q/s: the SLO holds, the phase completes.
		{"below capacity", Phase{Name: "b", Arrival: schema.ArrivalPoisson, Rate: 5, Queries: 100, Seed: 3,
			Saturation: &SaturationStop{Latency: 2 * time.Second, Exact: true}}, schema.EndCompleted, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &serialServer{service: 100 * ms}
				o := Options{timerOnly: true}
				if err := tc.ph.Validate(); err != nil {
					t.Fatal(err)
				}
				res, err := run(context.Background(), tc.ph, &testSource{}, &o, srv.do, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.EndReason != tc.end {
					t.Fatalf("end %q, want %q (saturation %+v)", res.EndReason, tc.end, res.Saturation)
				}
				if tc.reason == "" {
					if res.Saturation != nil || res.QueriesCompleted != tc.ph.Queries {
						t.Errorf("saturation %+v, %d queries completed", res.Saturation, res.QueriesCompleted)
					}
					return
				}
				s := res.Saturation
				if s == nil || s.Reason != tc.reason || s.Evidence == "" {
					t.Fatalf("saturation %+v, want reason %s", s, tc.reason)
				}
				if res.Failed != 0 || res.QueriesFailed != 0 || len(res.Errors) != 0 {
					t.Errorf("cut requests counted as failed: %d failed, errors %v", res.Failed, res.Errors)
				}
				if s.QueriesCut+s.NotSent == 0 || res.QueriesCompleted+s.QueriesCut+s.NotSent != s.Planned {
					t.Errorf("completed %d + cut %d + not sent %d != planned %d", res.QueriesCompleted, s.QueriesCut, s.NotSent, s.Planned)
				}
				if s.RequestsCut != s.QueriesCut {
					t.Errorf("requests cut %d, queries cut %d (one request a query)", s.RequestsCut, s.QueriesCut)
				}
				if s.At <= 0 || s.At >= 60 || res.Latency[schema.MetricQueryLatency].Count == 0 {
					t.Errorf("fired at %.1f s; %d query latencies kept", s.At, res.Latency[schema.MetricQueryLatency].Count)
				}
			})
		})
	}
}
