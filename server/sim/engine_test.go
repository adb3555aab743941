package sim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// timedWriter is an http.ResponseWriter that stamps each write with the
// (bubble's fake) clock.
type timedWriter struct {
	mu     sync.Mutex
	header http.Header
	status int
	writes []timedWrite
}

type timedWrite struct {
	at   time.Time
	data string
}

func (w *timedWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}
func (w *timedWriter) WriteHeader(code int) { w.status = code }
func (w *timedWriter) Flush()               {}
func (w *timedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, timedWrite{time.Now(), string(b)})
	return len(b), nil
}

// tokenTimes returns, per choice index, the times its token chunks were
// written, relative to start.
func (w *timedWriter) tokenTimes(t *testing.T, start time.Time) map[int][]time.Duration {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[int][]time.Duration{}
	for _, wr := range w.writes {
		for _, ev := range sseEvents(t, wr.data) {
			if ev == "[DONE]" {
				continue
			}
			c := decodeChunk(t, ev)
			for _, ch := range c.Choices {
				out[ch.Index] = append(out[ch.Index], wr.at.Sub(start))
			}
		}
	}
	return out
}

// post runs one completion through the handler at the current fake time.
func post(h http.Handler, body string) *timedWriter {
	w := &timedWriter{}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(body)))
	return w
}

func modelDur(seconds float64) time.Duration { return time.Duration(seconds * float64(time.Second)) }

// TestEngineTimeline checks the virtual-time scheduler exactly (fake clock,
// no jitter, speed 1): one prefill per step in arrival order, a step that
// starts when the previous one ends, an idle engine that starts at the
// arrival, and decode steps paced per token.
func TestEngineTimeline(t *testing.T) {
	lat := DefaultLatency
	p128 := modelDur(lat.Prefill(128, false, 2)) // "hello world" pads to 128
	p256 := modelDur(lat.Prefill(256, false, 2))
	dec := modelDur(lat.Decode(128, 2))
	short := `{"prompt":"hello world","max_tokens":1,"stream":true}`
	mid := `{"prompt":"` + strings.Repeat("w ", 150) + `","max_tokens":1,"stream":true}`
	rows := []struct {
		name string
		run  func(t *testing.T, h http.Handler, start time.Time)
	}{
		// A list prompt is served one prompt per step: prompt i's first token
		// lands after i+1 prefills.
		{"list_prompt_one_per_step", func(t *testing.T, h http.Handler, start time.Time) {
			w := post(h, `{"prompt":["hello world","hello world","hello world"],"max_tokens":1,"stream":true}`)
			got := w.tokenTimes(t, start)
			for i := 0; i < 3; i++ {
				if want := time.Duration(i+1) * p128; got[i][0] != want {
					t.Fatalf("prompt %d first token at %v, want %v", i, got[i][0], want)
				}
			}
		}},
		// A request arriving mid-step waits for the step's end, not for a
		// timer's wake-up: its prefill starts exactly when the first ends.
		{"arrival_during_step", func(t *testing.T, h http.Handler, start time.Time) {
			var wg sync.WaitGroup
			var a, b *timedWriter
			wg.Go(func() { a = post(h, mid) })
			time.Sleep(p256 / 3)
			wg.Go(func() { b = post(h, short) })
			wg.Wait()
			if got := a.tokenTimes(t, start)[0][0]; got != p256 {
				t.Fatalf("first request's token at %v, want %v", got, p256)
			}
			if got, want := b.tokenTimes(t, start)[0][0], p256+p128; got != want {
				t.Fatalf("second request's token at %v, want %v (queued behind the first)", got, want)
			}
		}},
		// An idle engine starts the next step at the arrival: no drift from
		// the last step's end.
		{"idle_then_arrival", func(t *testing.T, h http.Handler, start time.Time) {
			post(h, short)
			time.Sleep(10 * time.Second)
			arrival := time.Now()
			w := post(h, short)
			if got := w.tokenTimes(t, arrival)[0][0]; got != p128 {
				t.Fatalf("token %v after arrival, want %v", got, p128)
			}
		}},
		// max_tokens > 1: the first token after the prefill, each next one a
		// decode step later (ITL/TPOT are testable).
		{"decode_steps", func(t *testing.T, h http.Handler, start time.Time) {
			w := post(h, `{"prompt":"hello world","max_tokens":4,"stream":true}`)
			got := w.tokenTimes(t, start)[0]
			want := []time.Duration{p128, p128 + dec, p128 + 2*dec, p128 + 3*dec}
			if !slices.Equal(got, want) {
				t.Fatalf("token times %v, want %v", got, want)
			}
		}},
		// With max_num_seqs 1 a second request waits in the queue until the
		// first finishes all its decode steps.
		{"max_num_seqs_admission", func(t *testing.T, h http.Handler, start time.Time) {
			var wg sync.WaitGroup
			var b *timedWriter
			wg.Go(func() { post(h, `{"prompt":"hello world","max_tokens":3,"stream":true}`) })
			time.Sleep(time.Microsecond)
			wg.Go(func() { b = post(h, short) })
			wg.Wait()
			if got, want := b.tokenTimes(t, start)[0][0], p128+2*dec+p128; got != want {
				t.Fatalf("queued request's token at %v, want %v", got, want)
			}
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := testOptions()
				o.Speed = 1
				if r.name == "max_num_seqs_admission" {
					o.MaxNumSeqs = 1
					o.NumGPUBlocksOverride = 1
				}
				s, err := New(o)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				r.run(t, s.Handler(), time.Now())
			})
		})
	}
}

// TestSpeedDividesTime checks that --sim-speed divides the timeline while
// Stats keeps the model time.
func TestSpeedDividesTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := testOptions()
		o.Speed = 4
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		start := time.Now()
		w := post(s.Handler(), `{"prompt":"hello world","max_tokens":1,"stream":true}`)
		model := DefaultLatency.Prefill(128, false, 2)
		if got, want := w.tokenTimes(t, start)[0][0], modelDur(model/4); got != want {
			t.Fatalf("token at %v, want %v", got, want)
		}
		st := s.Stats()
		if len(st.Seqs) != 1 || st.Seqs[0].ModelPrefill != model {
			t.Fatalf("stats %+v, want one prompt with model prefill %v", st.Seqs, model)
		}
		if st.EngineBusy != modelDur(model/4) || st.ModelBusy != modelDur(model) {
			t.Fatalf("busy wall %v model %v", st.EngineBusy, st.ModelBusy)
		}
	})
}

// TestJitterDeterministic checks that the same seed and arrival order give
// the same modelled times, and another seed different ones.
func TestJitterDeterministic(t *testing.T) {
	run := func(seed int64) []float64 {
		var out []float64
		synctest.Test(t, func(t *testing.T) {
			o := testOptions()
			o.Jitter, o.SimSeed = 0.05, seed
			s, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			post(s.Handler(), `{"prompt":["a","b","c","d"],"max_tokens":1}`)
			for _, sq := range s.Stats().Seqs {
				out = append(out, sq.ModelPrefill)
			}
		})
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed gave %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("different seeds gave the same times %v", a)
	}
	base := DefaultLatency.Prefill(128, false, 2)
	for _, x := range a {
		if x < base*0.85 || x > base*1.15 || x == base {
			t.Fatalf("jittered prefill %v out of ±3σ of %v", x, base)
		}
	}
}

// TestLogStats checks vLLM's periodic throughput line after activity.
func TestLogStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := testOptions()
		o.Speed = 1
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out strings.Builder
		s.log = newLogger(&out, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { logStats(ctx, s, s.log); close(done) }()
		post(s.Handler(), `{"prompt":["hello world","hello world"],"max_tokens":1}`)
		time.Sleep(statsInterval + time.Second)
		cancel()
		<-done
		if want := "Engine 000: Avg prompt throughput: 0.4 tokens/s, Avg generation throughput: 0.2 tokens/s, Running: 0 reqs, Waiting: 0 reqs"; !strings.Contains(out.String(), want) {
			t.Fatalf("log %q lacks %q", out.String(), want)
		}
	})
}
