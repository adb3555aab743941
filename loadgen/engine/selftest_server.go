package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/jsonscan"
	"loadgen/loadgen/schema"
)

// Canned vLLM-shaped stream chunks (0.10 field set) used by the
// measurement servers.
const (
	tokenChunk = `data: {"id":"cmpl-bench-0","object":"text_completion","created":1735689600,"model":"m",` +
		`"choices":[{"index":0,"text":"yes","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}` + "\n\n"
	usageChunkFmt = `data: {"id":"cmpl-bench-0","object":"text_completion","created":1735689600,"model":"m",` +
		`"choices":[],"usage":{"prompt_tokens":%d,"total_tokens":%d,"completion_tokens":%d}}` + "\n\n"
	doneEvent = "data: [DONE]\n\n"
)

// usageChunk is the usage chunk of a request of prompt and completion
// tokens.
func usageChunk(prompt, completion int) string {
	return fmt.Sprintf(usageChunkFmt, prompt, prompt+completion, completion)
}

// FastHandler serves a minimal vLLM-shaped completions API with no service
// time: POST /v1/completions answers at once with one chunk per prompt
// (choice index i for prompt i, text "yes", finish_reason "length"; with
// "logprobs": k in the request, the first token's top k logprobs: "yes",
// "no" and made-up tokens), a usage chunk and [DONE]; GET /health answers
// 200 and GET /v1/models lists the model "m". It reads only the request's
// "prompt" (a string, token ids, or a list of either) and "logprobs", and
// answers a body it cannot read with a vLLM-shaped 400. It is the
// zero-latency target of the capacity, memory and schedule measurements,
// and what `loadgen selftest --serve` runs for other load generators.
func FastHandler() http.Handler {
	f := &fastServer{streams: map[fastKey][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", f.completions)
	mux.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"m","object":"model","created":1735689600,"owned_by":"loadgen"}]}`)
	})
	return mux
}

// fastServer holds FastHandler's canned streams, one per request shape.
type fastServer struct {
	bufs sync.Pool // request body buffers (*[]byte)

	mu      sync.Mutex
	streams map[fastKey][]byte
}

// fastKey is a request shape: the number of prompts and of top logprobs.
type fastKey struct{ prompts, logprobs int }

// maxFastPrompts and maxFastBody bound what FastHandler accepts.
const (
	maxFastPrompts = 1024
	maxFastBody    = 8 << 20
)

func (f *fastServer) completions(w http.ResponseWriter, r *http.Request) {
	bp, _ := f.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer f.bufs.Put(bp)
	body, err := readBody(r.Body, (*bp)[:0], maxFastBody)
	*bp = body
	var k fastKey
	if err == nil {
		k, err = readFastRequest(body)
	}
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal(err.Error())
		_, _ = fmt.Fprintf(w, `{"error":{"message":%s,"type":"BadRequestError","param":null,"code":400}}`, msg)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	_, _ = w.Write(f.stream(k))
}

// readBody reads r into buf's storage, up to max bytes.
func readBody(r io.Reader, buf []byte, max int) ([]byte, error) {
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(io.LimitReader(r, int64(max)+1)); err != nil {
		return b.Bytes(), err
	}
	if b.Len() > max {
		return b.Bytes(), fmt.Errorf("request body over %d bytes", max)
	}
	return b.Bytes(), nil
}

// readFastRequest reads the shape of a completion request body.
func readFastRequest(body []byte) (fastKey, error) {
	var s jsonscan.Scanner
	k := fastKey{prompts: -1}
	err := s.Decode(body, func() error {
		return s.Object("request", func(key string) error {
			switch key {
			case "prompt":
				return readPrompts(&s, &k.prompts)
			case "logprobs":
				k.logprobs = 0
				if s.Null() {
					return nil
				}
				var err error
				k.logprobs, err = s.Int("logprobs")
				return err
			}
			return s.Skip()
		})
	})
	switch {
	case err != nil:
		return k, fmt.Errorf("request body: %w", err)
	case k.prompts < 1 || k.prompts > maxFastPrompts:
		return k, fmt.Errorf("request body: want 1 to %d prompts", maxFastPrompts)
	case k.logprobs < 0 || k.logprobs > 20:
		return k, errors.New("request body: logprobs must be 0 to 20")
	}
	return k, nil
}

// readPrompts counts the prompts of "prompt": a string or a list of token
// ids is one, a list of strings or of token-id lists is one per element.
func readPrompts(s *jsonscan.Scanner, n *int) error {
	if s.Peek() != '[' {
		*n = 1
		return s.Skip()
	}
	*n = 0
	return s.Array("prompt", func(int) error {
		if c := s.Peek(); c != '"' && c != '[' {
			*n = 1 // token ids: one prompt
		} else {
			*n++
		}
		return s.Skip()
	})
}

// stream returns the canned stream of a request shape, built once.
func (f *fastServer) stream(k fastKey) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.streams[k]; ok {
		return b
	}
	var b strings.Builder
	for i := range k.prompts {
		lp := "null"
		if k.logprobs > 0 {
			top := []string{`"yes":-0.6886`, `"no":-0.7815`}
			for j := 0; len(top) < k.logprobs; j++ {
				top = append(top, fmt.Sprintf(`"tok%d":-%d.25`, j, j+3))
			}
			lp = `{"text_offset":[0],"token_logprobs":[-0.6886],"tokens":["yes"],"top_logprobs":[{` + strings.Join(top[:k.logprobs], ",") + `}]}`
		}
		fmt.Fprintf(&b, `data: {"id":"cmpl-bench-0","object":"text_completion","created":1735689600,"model":"m",`+
			`"choices":[{"index":%d,"text":"yes","logprobs":%s,"finish_reason":"length","stop_reason":null,"prompt_logprobs":null}],"usage":null}`+"\n\n", i, lp)
	}
	b.WriteString(usageChunk(12*k.prompts, k.prompts) + doneEvent)
	out := []byte(b.String())
	f.streams[k] = out
	return out
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
	_, _ = io.WriteString(w, usageChunk(12, d.Tokens)+doneEvent)
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
