package engine

import (
	"loadgen/loadgen/schema"

	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Canned vLLM-shaped stream chunks (0.10 field set) used by the
// measurement servers.
const (
	tokenChunk = `data: {"id":"cmpl-bench-0","object":"text_completion","created":1735689600,"model":"m",` +
		`"choices":[{"index":0,"text":"yes","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}` + "\n\n"
	usageChunkFmt = `data: {"id":"cmpl-bench-0","object":"text_completion","created":1735689600,"model":"m",` +
		`"choices":[],"usage":{"prompt_tokens":12,"total_tokens":%d,"completion_tokens":%d}}` + "\n\n"
	doneEvent = "data: [DONE]\n\n"
)

// FastHandler answers every request at once with a minimal completions
// stream: one token chunk, a usage chunk and [DONE]. It is the zero-latency
// target of the capacity and memory measurements.
func FastHandler() http.Handler {
	body := []byte(tokenChunk + fmt.Sprintf(usageChunkFmt, 13, 1) + doneEvent)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	})
}

// TruthDelays are the delays a TruthServer applies to one request, from
// the moment its handler starts.
type TruthDelays struct {
	TTFT   time.Duration // until the first token chunk
	ITL    time.Duration // between token chunks
	Tokens int           // token chunks (≥ 1)
}

// TruthServer is a loopback completions server whose delays are known
// exactly: for request i it sleeps until absolute deadlines (start+TTFT,
// then +ITL per token) and records its own stamps of the first and last
// token chunk, the truth the client's measurements are compared with.
type TruthServer struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	srv    *http.Server
	ln     net.Listener
	delays func(i int64) TruthDelays
	n      atomic.Int64
	served chan struct{}

	mu   sync.Mutex
	ttft *hdr.Histogram
	e2e  *hdr.Histogram
}

// StartTruthServer listens on 127.0.0.1 (port 0) and serves until Close.
func StartTruthServer(delays func(i int64) TruthDelays) (*TruthServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("truth server: %w", err)
	}
	s := &TruthServer{URL: "http://" + ln.Addr().String(), ln: ln, delays: delays,
		ttft: schema.NewHist(), e2e: schema.NewHist(), served: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server.
func (s *TruthServer) Close() error {
	err := s.srv.Close()
	<-s.served
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Truth returns copies of the server-side TTFT and E2E histograms (µs).
func (s *TruthServer) Truth() (ttft, e2e *hdr.Histogram) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ttft.Clone(), s.e2e.Clone()
}

// Reset clears the recorded truth (e.g. after a warmup).
func (s *TruthServer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttft.Reset()
	s.e2e.Reset()
}

func (s *TruthServer) serve(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	_, _ = io.Copy(io.Discard, r.Body)
	d := s.delays(s.n.Add(1) - 1)
	d.Tokens = max(d.Tokens, 1)
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	var first, last time.Duration
	for k := range d.Tokens {
		if wait := time.Until(t0.Add(d.TTFT + time.Duration(k)*d.ITL)); wait > 0 {
			time.Sleep(wait)
		}
		if _, err := io.WriteString(w, tokenChunk); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
		last = time.Since(t0)
		if k == 0 {
			first = last
		}
	}
	_, _ = io.WriteString(w, fmt.Sprintf(usageChunkFmt, 12+d.Tokens, d.Tokens)+doneEvent)
	s.mu.Lock()
	_ = s.ttft.RecordValue(int64((first + time.Microsecond/2) / time.Microsecond))
	_ = s.e2e.RecordValue(int64((last + time.Microsecond/2) / time.Microsecond))
	s.mu.Unlock()
}

// serveFast serves FastHandler on a loopback listener until ctx ends; it
// returns the base URL and a function that waits for the server to stop.
func serveFast(ctx context.Context) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("fast server: %w", err)
	}
	srv := &http.Server{Handler: FastHandler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop := func() {
		_ = srv.Close()
		<-done
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), stop, nil
}
