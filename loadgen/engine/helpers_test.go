package engine

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"loadgen/workload"
)

// testSource yields n items (0: without end) of reqs requests each; when
// failAt > 0 the item with that index is an error instead.
type testSource struct {
	n, reqs, failAt int
	docs            int // documents per item (prompts spread over requests)
	relevant        []int
	i               int
}

var errTestSource = errors.New("dataset row broken")

func (s *testSource) Next(context.Context) (workload.Item, error) {
	if s.n > 0 && s.i >= s.n {
		return workload.Item{}, io.EOF
	}
	if s.failAt > 0 && s.i == s.failAt {
		return workload.Item{}, errTestSource
	}
	reqs := max(s.reqs, 1)
	it := workload.Item{Query: s.i, Documents: s.docs, Relevant: s.relevant, TopN: 2}
	per := max(s.docs/reqs, 1)
	for j := range reqs {
		it.Requests = append(it.Requests, workload.Request{Body: SyntheticBody, Prompts: per, Offset: j * per})
	}
	s.i++
	return it, nil
}

// fakeService is a request function for synctest bubbles: each request
// takes service(r) of fake time, then succeeds with one token; an aborted
// request fails as the real client does. It tracks the peak in-flight count.
type fakeService struct {
	service  func(r *Result) time.Duration
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (f *fakeService) do(ctx context.Context, _ *workload.Request, r *Result, now func() time.Duration) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	answerAfter(ctx, f.service(r), r, now)
}

// answerAfter fills r as a one-token answer that took d, or as the
// failure of ctx when it ends first: the reply of every fake service.
func answerAfter(ctx context.Context, d time.Duration, r *Result, now func() time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		r.FirstToken, r.End = now(), now()
		r.Status, r.Chunks, r.Usage, r.PromptTokens, r.OutputTokens = 200, 1, true, 10, 1
	case <-ctx.Done():
		r.End = now()
		r.fail(classify(ctx, ctx.Err(), 0, true, 0))
	}
}

func fixed(d time.Duration) func(*Result) time.Duration {
	return func(*Result) time.Duration { return d }
}

// seen records copies of the results the collector saw.
type seen struct {
	mu sync.Mutex
	rs []Result
}

func (s *seen) add(r *Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *r
	c.q, c.ITL, c.Scores, c.choices = nil, nil, nil, nil
	s.rs = append(s.rs, c)
}

// measured returns the non-warmup results ordered by query and request.
func (s *seen) measured() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Result
	for _, r := range s.rs {
		if !r.Warmup {
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Query < out[j-1].Query ||
			(out[j].Query == out[j-1].Query && out[j].Request < out[j-1].Request)); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

const ms = time.Millisecond

// sseHandler answers every request with body as an SSE stream.
func sseHandler(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
	})
}
