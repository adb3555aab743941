package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestFaults checks each injected fault as the client sees it and as
// Stats records it.
func TestFaults(t *testing.T) {
	stream := `{"prompt":"hello world","max_tokens":1,"stream":true}`
	plain := `{"prompt":"hello world","max_tokens":1}`
	rows := []struct {
		name   string
		mutate func(*Options)
		body   string
		check  func(t *testing.T, status int, body string, err error)
		fault  string
	}{
		// --sim-error-rate 1: a 500 before any response.
		{"error", func(o *Options) { o.ErrorRate = 1 }, stream, func(t *testing.T, st int, b string, err error) {
			if st != 500 || !strings.Contains(b, `"type":"InternalServerError"`) {
				t.Fatalf("status %d body %s", st, b)
			}
		}, "error"},
		// --sim-stream-error-rate 1: a 200 whose stream carries the error.
		{"stream_error", func(o *Options) { o.StreamErrorRate = 1 }, stream, func(t *testing.T, st int, b string, err error) {
			ev := sseEvents(t, b)
			if st != 200 || len(ev) != 2 || decodeChunk(t, ev[0]).Error == nil || ev[1] != "[DONE]" {
				t.Fatalf("status %d body %q", st, b)
			}
		}, "stream_error"},
		// --sim-drop-rate 1 on a stream: headers, then the connection dies.
		{"drop_stream", func(o *Options) { o.DropRate = 1 }, stream, func(t *testing.T, st int, b string, err error) {
			if err == nil {
				t.Fatalf("stream read to the end (%d %q), want a broken connection", st, b)
			}
		}, "drop"},
		// --sim-drop-rate 1 without streaming: no response at all.
		{"drop_plain", func(o *Options) { o.DropRate = 1 }, plain, func(t *testing.T, st int, b string, err error) {
			if err == nil {
				t.Fatalf("got %d %q, want a broken connection", st, b)
			}
		}, "drop"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s, ts := newTestServer(t, r.mutate)
			resp, err := ts.Client().Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(r.body))
			st, body := 0, ""
			if err == nil {
				st = resp.StatusCode
				var b []byte
				b, err = io.ReadAll(resp.Body)
				body = string(b)
				resp.Body.Close()
			}
			r.check(t, st, body, err)
			if got := s.Stats().Faults[r.fault]; got != 1 {
				t.Fatalf("Faults[%s] = %d, want 1", r.fault, got)
			}
		})
	}
}

// TestSlowFault checks --sim-slow-rate/--sim-slow-factor multiply the
// request's modelled time.
func TestSlowFault(t *testing.T) {
	s, ts := newTestServer(t, func(o *Options) { o.SlowRate, o.SlowFactor = 1, 10 })
	do(t, ts, "POST", "/v1/completions", `{"prompt":"hello world","max_tokens":1}`)
	if got, want := s.Stats().Seqs[0].ModelPrefill, 10*DefaultLatency.Prefill(128, false, 2); got != want {
		t.Fatalf("slow prefill %v, want %v", got, want)
	}
}

// TestCrashAfter checks --sim-crash-after: N requests are served, the next
// one fails and the engine is dead.
func TestCrashAfter(t *testing.T) {
	s, ts := newTestServer(t, func(o *Options) { o.CrashAfter = 2 })
	for i := 0; i < 2; i++ {
		if st, b := do(t, ts, "POST", "/v1/completions", `{"prompt":"x","max_tokens":1}`); st != 200 {
			t.Fatalf("request %d: %d %s", i, st, b)
		}
	}
	if st, _ := do(t, ts, "POST", "/v1/completions", `{"prompt":"x","max_tokens":1}`); st != 500 {
		t.Fatalf("request 3: %d, want 500", st)
	}
	<-s.Done()
	if s.Stats().Faults["crash"] != 1 {
		t.Fatal("crash not counted")
	}
}

// TestFaultsDeterministic checks the fault pattern depends only on the
// seed and the arrival order.
func TestFaultsDeterministic(t *testing.T) {
	pattern := func(seed int64) []int {
		_, ts := newTestServer(t, func(o *Options) { o.ErrorRate, o.SimSeed, o.ZeroLatency = 0.5, seed, true })
		var out []int
		for i := 0; i < 24; i++ {
			st, _ := do(t, ts, "POST", "/v1/completions", `{"prompt":"x","max_tokens":1}`)
			out = append(out, st)
		}
		return out
	}
	a, b, c := pattern(3), pattern(3), pattern(4)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatalf("seed 3: %v and %v; seed 4: %v", a, b, c)
	}
	if !slices.Contains(a, 200) || !slices.Contains(a, 500) {
		t.Fatalf("rate 0.5 gave %v", a)
	}
}

// TestClientCancel checks a client that goes away mid-request: the
// sequence is aborted (vllm:request_success_total{finished_reason="abort"})
// and Stats counts the cancellation.
func TestClientCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := testOptions()
		o.Speed = 1
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			req := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt":"hello","max_tokens":50,"stream":true}`)).WithContext(ctx)
			s.Handler().ServeHTTP(&timedWriter{}, req)
		}()
		time.Sleep(modelDur(DefaultLatency.Prefill(128, false, 2)) / 2)
		cancel()
		<-done
		synctest.Wait()
		time.Sleep(time.Second) // let the engine reach its next step
		st := s.Stats()
		if st.Cancelled != 1 || len(st.Seqs) != 1 || st.Seqs[0].FinishReason != "abort" {
			t.Fatalf("stats %+v", st)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(rec.Body.String(), `vllm:request_success_total{model_name="rr",engine="0",finished_reason="abort"} 1.0`) {
			t.Fatalf("abort not counted:\n%s", rec.Body)
		}
		if s.eng.nRunning.Load() != 0 || s.eng.nWaiting.Load() != 0 {
			t.Fatal("gauges not released")
		}
	})
}
