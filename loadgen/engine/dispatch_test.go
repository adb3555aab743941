package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// runFake runs a phase in the current synctest bubble against a fake
// service and returns the result and the results the collector saw.
func runFake(t *testing.T, ctx context.Context, ph Phase, src *testSource, f *fakeService, o Options) (*schema.PhaseResult, *seen) {
	t.Helper()
	if err := ph.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &seen{}
	o.onResult, o.timerOnly = s.add, true
	res, err := run(ctx, ph, src, &o, f.do, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, s
}

type stamp struct{ sched, sent, end time.Duration }

func stamps(rs []Result) []stamp {
	out := make([]stamp, len(rs))
	for i, r := range rs {
		out[i] = stamp{r.Scheduled, r.Sent, r.End}
	}
	return out
}

func TestDispatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ph      Phase
		src     testSource
		service time.Duration
		want    []stamp
		end     string
		late    int
		peak    int64
	}{{
		// Constant arrivals leave exactly at i/rate, the first one too.
		name: "constant schedule", ph: Phase{Name: "c", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 3},
		service: 10 * ms, end: schema.EndCompleted,
		want: []stamp{{100 * ms, 100 * ms, 110 * ms}, {200 * ms, 200 * ms, 210 * ms}, {300 * ms, 300 * ms, 310 * ms}},
	}, {
		// A cap of one with 250 ms requests every 100 ms holds arrivals
		// back: each leaves when the previous one ends, late by a growing lag.
		name: "cap makes arrivals late", ph: Phase{Name: "c", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 4, MaxConcurrency: 1},
		service: 250 * ms, end: schema.EndCompleted, late: 3, peak: 1,
		want: []stamp{{100 * ms, 100 * ms, 350 * ms}, {200 * ms, 350 * ms, 600 * ms},
			{300 * ms, 600 * ms, 850 * ms}, {400 * ms, 850 * ms, 1100 * ms}},
	}, {
		// The cap counts requests, not queries: two requests of one query
		// fill a cap of two, so the next query waits.
		name: "cap counts requests", ph: Phase{Name: "c", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 2, MaxConcurrency: 2},
		src: testSource{reqs: 2}, service: 150 * ms, end: schema.EndCompleted, late: 1, peak: 2,
		want: []stamp{{100 * ms, 100 * ms, 250 * ms}, {100 * ms, 100 * ms, 250 * ms},
			{200 * ms, 250 * ms, 400 * ms}, {200 * ms, 250 * ms, 400 * ms}},
	}, {
		// Sync is a closed loop: each query leaves when the previous ends.
		name: "sync closed loop", ph: Phase{Name: "s", Arrival: schema.ArrivalSync, Queries: 3},
		service: 100 * ms, end: schema.EndCompleted, peak: 1,
		want: []stamp{{0, 0, 100 * ms}, {100 * ms, 100 * ms, 200 * ms}, {200 * ms, 200 * ms, 300 * ms}},
	}, {
		// Sync sends all requests of a query together.
		name: "sync fan-out", ph: Phase{Name: "s", Arrival: schema.ArrivalSync, Queries: 2},
		src: testSource{reqs: 2}, service: 100 * ms, end: schema.EndCompleted, peak: 2,
		want: []stamp{{0, 0, 100 * ms}, {0, 0, 100 * ms}, {100 * ms, 100 * ms, 200 * ms}, {100 * ms, 100 * ms, 200 * ms}},
	}, {
		// Inf: everything is due at 0; the cap of two admits two at a time
		// and the wait shows as schedule lag.
		name: "inf with cap", ph: Phase{Name: "i", Arrival: schema.ArrivalInf, Queries: 5, MaxConcurrency: 2},
		service: 100 * ms, end: schema.EndCompleted, late: 3, peak: 2,
		want: []stamp{{0, 0, 100 * ms}, {0, 0, 100 * ms}, {0, 100 * ms, 200 * ms}, {0, 100 * ms, 200 * ms}, {0, 200 * ms, 300 * ms}},
	}, {
		// A duration bound schedules arrivals up to and including Duration.
		name: "duration bound", ph: Phase{Name: "d", Arrival: schema.ArrivalConstant, Rate: 4, Duration: time.Second},
		service: 10 * ms, end: schema.EndDuration,
		want: []stamp{{250 * ms, 250 * ms, 260 * ms}, {500 * ms, 500 * ms, 510 * ms}, {750 * ms, 750 * ms, 760 * ms}, {1000 * ms, 1000 * ms, 1010 * ms}},
	}, {
		// A source that runs dry ends the phase early, with a warning.
		name: "source ends", ph: Phase{Name: "e", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 5},
		src: testSource{n: 2}, service: 10 * ms, end: schema.EndCompleted,
		want: []stamp{{100 * ms, 100 * ms, 110 * ms}, {200 * ms, 200 * ms, 210 * ms}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := &fakeService{service: fixed(tc.service)}
				src := tc.src
				res, s := runFake(t, context.Background(), tc.ph, &src, f, Options{})
				got := stamps(s.measured())
				if len(got) != len(tc.want) {
					t.Fatalf("got %d results %v, want %v", len(got), got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("result %d: got %v, want %v", i, got[i], tc.want[i])
					}
				}
				if res.EndReason != tc.end {
					t.Errorf("end reason %q, want %q", res.EndReason, tc.end)
				}
				if res.LateArrivals != tc.late {
					t.Errorf("late arrivals %d, want %d", res.LateArrivals, tc.late)
				}
				if tc.peak > 0 && f.peak.Load() != tc.peak {
					t.Errorf("peak in flight %d, want %d", f.peak.Load(), tc.peak)
				}
				if res.Failed != 0 || res.Completed != len(tc.want) {
					t.Errorf("completed %d failed %d, want %d and 0", res.Completed, res.Failed, len(tc.want))
				}
			})
		})
	}
}

func TestDispatcherCapWarning(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeService{service: fixed(250 * ms)}
		ph := Phase{Name: "c", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 4, MaxConcurrency: 1}
		res, _ := runFake(t, context.Background(), ph, &testSource{}, f, Options{})
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "concurrency cap of 1 held 3 requests back") {
			t.Errorf("warnings %q, want the cap named", res.Warnings)
		}
		// Response time is corrected for the wait: the last query was due
		// at 400 ms and ended at 1100 ms.
		if got := res.Latency[schema.MetricResponseTime].Max; got != 700 {
			t.Errorf("max response time %v ms, want 700", got)
		}
		if got := res.Latency[schema.MetricE2EL].Max; got != 250 {
			t.Errorf("max e2el %v ms, want 250", got)
		}
		if got := res.Latency[schema.MetricScheduleLag].Max; got != 450 {
			t.Errorf("max schedule lag %v ms, want 450", got)
		}
		// 4 arrivals dispatched over 850 ms.
		if want := 4 / 0.85; abs(res.AchievedRate-want) > 1e-9 {
			t.Errorf("achieved rate %v, want %v", res.AchievedRate, want)
		}
		if res.Duration != 1.1 {
			t.Errorf("duration %v, want 1.1", res.Duration)
		}
	})
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestDispatcherWarmup(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeService{service: fixed(50 * ms)}
		var log bytes.Buffer
		ph := Phase{Name: "w", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 2, Warmup: 3}
		res, s := runFake(t, context.Background(), ph, &testSource{}, f, Options{RequestsLog: &log})
		if res.Completed != 2 || res.QueriesCompleted != 2 || res.WarmupQueries != 3 {
			t.Errorf("completed %d queries %d warmup %d, want 2, 2, 3", res.Completed, res.QueriesCompleted, res.WarmupQueries)
		}
		// Warmup ran one query at a time for 150 ms; the measured schedule
		// starts after it.
		got := stamps(s.measured())
		want := []stamp{{250 * ms, 250 * ms, 300 * ms}, {350 * ms, 350 * ms, 400 * ms}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("measured stamps %v, want %v", got, want)
		}
		if c := res.Latency[schema.MetricE2EL].Count; c != 2 {
			t.Errorf("e2el count %d, want 2 (warmup excluded)", c)
		}
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		if len(lines) != 5 {
			t.Fatalf("requests log has %d lines, want 5", len(lines))
		}
		var first struct {
			Warmup bool    `json:"warmup"`
			Sent   float64 `json:"sent_us"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
			t.Fatal(err)
		}
		if !first.Warmup || first.Sent != -150000 {
			t.Errorf("first log line %+v, want warmup sent at -150000 µs", first)
		}
	})
}

// TestDispatcherAfterWarmup: the hook runs once, when every warmup query
// has finished and before the first measured arrival; its error becomes a
// warning, and the measured part still runs.
func TestDispatcherAfterWarmup(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeService{service: fixed(50 * ms)}
			var calls []time.Duration
			start := time.Now()
			ph := Phase{Name: "w", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 2, Warmup: 3}
			res, s := runFake(t, context.Background(), ph, &testSource{}, f, Options{
				AfterWarmup: func(context.Context) error {
					calls = append(calls, time.Since(start))
					if fail {
						return errors.New("reset refused")
					}
					return nil
				},
			})
			// Three warmup queries of 50 ms, one at a time.
			if len(calls) != 1 || calls[0] != 150*ms {
				t.Errorf("hook calls at %v, want one at 150ms", calls)
			}
			if got := stamps(s.measured()); len(got) != 2 || got[0].sent != 250*ms {
				t.Errorf("measured stamps %v", got)
			}
			warned := strings.Contains(strings.Join(res.Warnings, "\n"), "after warmup: reset refused")
			if warned != fail {
				t.Errorf("warnings %q (hook failed: %v)", res.Warnings, fail)
			}
		})
	}
}

func TestDispatcherStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		drain     time.Duration
		exit      bool // close ServerExited instead of canceling ctx
		end       string
		completed int
		canceled  int
	}{
		// Requests take 1 s; three are in flight at 350 ms. A 300 ms drain is
		// too short: they are aborted and counted as canceled.
		{name: "drain too short", drain: 300 * ms, end: schema.EndInterrupted, canceled: 3},
		// A 2 s drain lets them finish; nothing more is sent.
		{name: "drain long enough", drain: 2 * time.Second, end: schema.EndInterrupted, completed: 3},
		// A server exit aborts at once, whatever the drain.
		{name: "server exited", drain: 2 * time.Second, exit: true, end: schema.EndServerExited, canceled: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				exited := make(chan struct{})
				go func() {
					time.Sleep(350 * ms)
					if tc.exit {
						close(exited)
					} else {
						cancel()
					}
				}()
				f := &fakeService{service: fixed(time.Second)}
				ph := Phase{Name: "x", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 10}
				start := time.Now()
				res, _ := runFake(t, ctx, ph, &testSource{}, f, Options{Drain: tc.drain, ServerExited: exited})
				if res.EndReason != tc.end || res.Completed != tc.completed || res.Errors[KindCanceled].Count != tc.canceled {
					t.Errorf("end %q completed %d canceled %d, want %q %d %d (errors %v)",
						res.EndReason, res.Completed, res.Errors[KindCanceled].Count, tc.end, tc.completed, tc.canceled, res.Errors)
				}
				wantEnd := 350*ms + tc.drain
				if tc.exit {
					wantEnd = 350 * ms
				} else if tc.completed > 0 {
					wantEnd = 1300 * ms
				}
				if got := time.Since(start); got != wantEnd {
					t.Errorf("run took %v, want %v", got, wantEnd)
				}
			})
		})
	}
}

func TestDispatcherStopWhileCapped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			time.Sleep(150 * ms)
			cancel()
		}()
		// One query of three requests, cap one: the first is in flight when
		// the phase stops, the other two were never sent.
		f := &fakeService{service: fixed(time.Second)}
		ph := Phase{Name: "x", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 1, MaxConcurrency: 1}
		res, s := runFake(t, ctx, ph, &testSource{reqs: 3}, f, Options{Drain: 0})
		if res.Failed != 3 || res.Errors[KindCanceled].Count != 3 || res.QueriesFailed != 1 {
			t.Errorf("failed %d canceled %d queries failed %d, want 3 3 1", res.Failed, res.Errors[KindCanceled].Count, res.QueriesFailed)
		}
		notSent := 0
		for _, r := range s.measured() {
			if r.NotSent {
				notSent++
			}
		}
		if notSent != 2 {
			t.Errorf("%d requests marked not sent, want 2", notSent)
		}
		if c := res.Latency[schema.MetricScheduleLag].Count; c != 1 {
			t.Errorf("schedule lag count %d, want 1 (unsent requests have no lag)", c)
		}
	})
}

func TestDispatcherSourceError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeService{service: fixed(10 * ms)}
		ph := Phase{Name: "x", Arrival: schema.ArrivalConstant, Rate: 10, Queries: 10}
		res, _ := runFake(t, context.Background(), ph, &testSource{failAt: 2}, f, Options{})
		if res.EndReason != schema.EndError || res.Completed != 2 {
			t.Errorf("end %q completed %d, want error and 2", res.EndReason, res.Completed)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], errTestSource.Error()) {
			t.Errorf("warnings %q, want the source error", res.Warnings)
		}
	})
}

// TestCheckItem checks the items the dispatcher refuses: the client could
// not account for their prompts.
func TestCheckItem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		it   workload.Item
		want string // "" for accepted
	}{
		// The common case.
		{"fine", workload.Item{Requests: []workload.Request{{Prompts: 1}, {Prompts: 8}}}, ""},
		// Nothing to send.
		{"no requests", workload.Item{Query: 3}, "query 3 has no requests"},
		// A request without prompts would pass with no choice at all.
		{"no prompts", workload.Item{Query: 4, Requests: []workload.Request{{Prompts: 2}, {}}}, "query 4, request 1 has 0 prompts"},
	} {
		err := checkItem(&tc.it)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
