package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"loadgen/workload"
)

// tickClock returns a clock that advances 1 ms per reading, so stamps
// count the client's readings: the n-th event read is stamped n ms.
func tickClock() func() time.Duration {
	var t time.Duration
	return func() time.Duration { t += ms; return t }
}

func sse(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("data: " + e + "\n\n")
	}
	return b.String()
}

const (
	evTok0  = `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"a","logprobs":null,"finish_reason":null}],"usage":null}`
	evTok1  = `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":1,"text":"b","logprobs":null,"finish_reason":null}],"usage":null}`
	evEmpty = `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"total_tokens":12,"completion_tokens":0}}`
	evUsage = `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"total_tokens":14,"completion_tokens":2}}`
	evDone  = `[DONE]`
)

func logprobsEv(index int, top string) string {
	return fmt.Sprintf(`{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":%d,"text":"yes",`+
		`"logprobs":{"text_offset":[0],"token_logprobs":[-0.1],"tokens":["yes"],"top_logprobs":[%s]},"finish_reason":"length"}],"usage":null}`, index, top)
}

func TestClient(t *testing.T) {
	t.Parallel()
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	pYes := func(yes, no float64) float64 { return 1 / (1 + math.Exp(no-yes)) }
	tests := []struct {
		name    string
		status  int
		body    string
		prompts int
		maxTok  int // the request's max_tokens (0: not checked)
		maxEv   int // Options.MaxEventBytes (0: the default)
		scorer  *workload.Scorer
		// want
		kind, err      string // err: substring of the message
		first, end     time.Duration
		itl            []time.Duration
		prompt, output int64
		usage          bool
		scores         []float64
		missYes        int
	}{{
		// A chunk with empty choices (here a continuous usage chunk) is not
		// a token: TTFT is the first chunk with choices, E2E the last.
		name: "stamps", maxTok: 2, body: sse(evEmpty, evTok0, evTok0, evUsage, evDone),
		first: 2 * ms, end: 3 * ms, itl: []time.Duration{ms}, prompt: 12, output: 2, usage: true,
	}, {
		// Chunks of a batched request interleave; ITL is per choice.
		name: "batched prompts", prompts: 2, body: sse(evTok0, evTok1, evTok0, evTok1, evUsage, evDone),
		first: ms, end: 4 * ms, itl: []time.Duration{2 * ms, 2 * ms}, prompt: 12, output: 2, usage: true,
	}, {
		// Comments, other fields and CRLF endings are SSE too; an event
		// without data is no event.
		name: "sse details", body: ": ping\r\n\r\nevent: completion\r\nid: 1\r\ndata: " + evTok0 + "\r\n\r\n" + sse(evUsage, evDone),
		first: ms, end: ms, prompt: 12, output: 2, usage: true,
	}, {
		// Without a usage chunk the request still succeeds; Usage says so.
		name: "no usage", body: sse(evTok0, evDone), first: ms, end: ms,
	}, {
		// A body that ends cleanly without [DONE] is accepted.
		name: "no done", body: sse(evTok0, evUsage), first: ms, end: ms, prompt: 12, output: 2, usage: true,
	}, {
		// vLLM ≥ 0.10.1 nests the error; its message is kept with the status.
		name: "nested error body", status: 400,
		body: `{"error":{"message":"This model's maximum context length is 2048 tokens.","type":"BadRequestError","param":null,"code":400}}`,
		kind: KindHTTP4xx, err: "HTTP 400: This model's maximum context length is 2048 tokens.",
	}, {
		// vLLM ≤ 0.10.0 had a flat error object.
		name: "flat error body", status: 404,
		body: `{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}`,
		kind: KindHTTP4xx, err: "HTTP 404: The model `x` does not exist.",
	}, {
		// The API-key middleware answers with a bare string.
		name: "string error body", status: 401, body: `{"error":"Unauthorized"}`,
		kind: KindHTTP4xx, err: "HTTP 401: Unauthorized",
	}, {
		// A non-JSON body is kept as text.
		name: "text error body", status: 500, body: "Internal Server Error\n",
		kind: KindHTTP5xx, err: "HTTP 500: Internal Server Error",
	}, {
		// An error event inside a 200 stream fails the request; vLLM's own
		// client ignores it.
		name: "error in stream", body: sse(`{"error":{"message":"request aborted","type":"BadRequestError","param":null,"code":400}}`, evDone),
		kind: KindStream, err: "error event in stream: request aborted",
	}, {
		// Also after tokens.
		name: "error after tokens", body: sse(evTok0, `{"error":{"object":"error","message":"engine dead","type":"InternalServerError","code":500}}`, evDone),
		kind: KindStream, err: "engine dead", first: ms,
	}, {
		// A stream with no choice chunk answered no prompt.
		name: "no choices", body: sse(evUsage, evDone),
		kind: KindMissingChoices, err: "stream ended with 0 of 1 choices (index 0 missing)",
	}, {
		// A chunk that is not JSON is a stream error, quoted.
		name: "malformed chunk", body: sse(`{"choices":[`, evDone),
		kind: KindStream, err: `malformed chunk after 0 choice chunks`,
	}, {
		// Scoring needs logprobs; on-device sampling drops them.
		name: "missing logprobs", scorer: &scorer, body: sse(evTok0, evUsage, evDone),
		kind: KindMissingLogprobs, err: "on_device_sampling_config: null", first: ms,
	}, {
		// Logprobs without top_logprobs (or an empty list) are missing too.
		name: "missing top_logprobs", scorer: &scorer, body: sse(`{"choices":[{"index":0,"logprobs":{"tokens":["yes"],"top_logprobs":[]}}]}`, evDone),
		kind: KindMissingLogprobs, err: "on_device_sampling_config: null", first: ms,
	}, {
		// Logprobs of the wrong shape are a stream error naming the field.
		name: "malformed choices", scorer: &scorer, body: sse(`{"choices":[{"index":0,"logprobs":{"top_logprobs":"x"}}]}`, evDone),
		kind: KindStream, err: "malformed choices: choices[].logprobs.top_logprobs: want array", first: ms,
	}, {
		// A choice index outside 0..prompts−1 fails the request.
		name: "negative index", body: sse(`{"choices":[{"index":-1}]}`, evDone),
		kind: KindBadChoiceIndex, err: "choice index -1 outside 0..0: the request has 1 prompts", first: ms,
	}, {
		// P(yes) from the first token's top logprobs, per choice index.
		name: "scores", scorer: &scorer, prompts: 2,
		body:  sse(logprobsEv(1, `{"yes":-0.1,"no":-2.5}`), logprobsEv(0, `{"token_id:9693":-3,"no":-0.2}`), evUsage, evDone),
		first: ms, end: 2 * ms, prompt: 12, output: 2, usage: true,
		scores: []float64{pYes(-3, -0.2), pYes(-0.1, -2.5)},
	}, {
		// A missing "yes" counts as −10 and is counted.
		name: "missing yes", scorer: &scorer,
		body:  sse(logprobsEv(0, `{"no":-0.01}`), evUsage, evDone),
		first: ms, end: ms, prompt: 12, output: 2, usage: true,
		scores: []float64{pYes(-10, -0.01)}, missYes: 1,
	}, {
		// Every prompt must be answered: a choice missing at [DONE] fails
		// the request, naming how many arrived.
		name: "missing choice", prompts: 2, body: sse(evTok0, evUsage, evDone),
		kind: KindMissingChoices, err: "stream ended with 1 of 2 choices (index 1 missing)", first: ms,
	}, {
		// The same when the body ends without [DONE].
		name: "missing choice without done", prompts: 2, body: sse(evTok0, evUsage),
		kind: KindMissingChoices, err: "stream ended with 1 of 2 choices (index 1 missing)", first: ms,
	}, {
		// Scoring: a choice that never came leaves a document unscored,
		// which fails the request rather than passing as a NaN score.
		name: "scored missing choice", scorer: &scorer, prompts: 3,
		body: sse(logprobsEv(0, `{"yes":-0.1,"no":-2.5}`), logprobsEv(2, `{"yes":-0.1,"no":-2.5}`), evUsage, evDone),
		kind: KindMissingChoices, err: "stream ended with 2 of 3 choices (index 1 missing)", first: ms,
	}, {
		// An index past the prompts is not some other prompt's answer.
		name: "index past the prompts", prompts: 2, body: sse(evTok0, evTok1, `{"choices":[{"index":2}]}`, evDone),
		kind: KindBadChoiceIndex, err: "choice index 2 outside 0..1: the request has 2 prompts", first: ms,
	}, {
		// max_tokens 1: exactly one chunk per choice; a second one is a
		// duplicate, even when the other choice is missing.
		name: "duplicate chunk", prompts: 2, maxTok: 1, body: sse(evTok0, evTok0, evDone),
		kind: KindDuplicateChoice, err: "choice 0 streamed 2 chunks: max_tokens 1 allows at most 1", first: ms,
	}, {
		// Also within one chunk.
		name: "duplicate in a chunk", prompts: 2, maxTok: 1, body: sse(`{"choices":[{"index":1},{"index":1}]}`, evDone),
		kind: KindDuplicateChoice, err: "choice 1 streamed 2 chunks", first: ms,
	}, {
		// Only the first token's logprobs score; later chunks need none.
		name: "logprobs on the first chunk only", scorer: &scorer, maxTok: 2,
		body:  sse(logprobsEv(0, `{"yes":-0.1,"no":-2.5}`), evTok0, evUsage, evDone),
		first: ms, end: 2 * ms, itl: []time.Duration{ms}, prompt: 12, output: 2, usage: true,
		scores: []float64{pYes(-0.1, -2.5)},
	}, {
		// A line longer than MaxEventBytes fails the request as too large
		// instead of being buffered whole.
		name: "line too large", maxEv: 1 << 10,
		body: sse(`{"choices":[{"index":0,"text":"`+strings.Repeat("x", 2<<10)+`"}]}`, evDone),
		kind: KindTooLarge, err: "SSE line longer than 1024 bytes (Options.MaxEventBytes) after 0 choice chunks",
	}, {
		// Likewise an event made of many short data lines.
		name: "event too large", maxEv: 1 << 10,
		body: sse(evTok0) + strings.Repeat("data: "+strings.Repeat("y", 100)+"\n", 20) + "\n" + sse(evDone),
		kind: KindTooLarge, err: "SSE event longer than 1024 bytes (Options.MaxEventBytes) after 1 choice chunks", first: ms,
	}, {
		// A non-200 body is read up to 64 KiB and says it was cut.
		name: "error body too large", status: 503, body: strings.Repeat("overloaded ", 10<<10),
		kind: KindHTTP5xx, err: "(error body over 64 KiB; the rest was not read)",
	}, {
		// Without a scorer logprobs are not even looked at.
		name: "no scorer", body: sse(logprobsEv(0, `{"no":-0.01}`), evDone), first: ms, end: ms,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				} else {
					w.Header().Set("Content-Type", "text/event-stream")
				}
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := newClient(Phase{}, &Options{BaseURL: srv.URL, Scorer: tc.scorer, MaxEventBytes: tc.maxEv})
			if err != nil {
				t.Fatal(err)
			}
			r := &Result{Prompts: max(tc.prompts, 1)}
			c.do(context.Background(), &workload.Request{Body: SyntheticBody, Prompts: r.Prompts, MaxTokens: tc.maxTok}, r, tickClock())
			if r.Kind != tc.kind || !strings.Contains(r.Err, tc.err) {
				t.Errorf("error %q %q, want %q containing %q", r.Kind, r.Err, tc.kind, tc.err)
			}
			if tc.kind == "" {
				if r.FirstToken != tc.first || r.End != tc.end {
					t.Errorf("first %v end %v, want %v %v", r.FirstToken, r.End, tc.first, tc.end)
				}
				if fmt.Sprint(r.ITL) != fmt.Sprint(tc.itl) && !(len(r.ITL) == 0 && len(tc.itl) == 0) {
					t.Errorf("itl %v, want %v", r.ITL, tc.itl)
				}
				if r.PromptTokens != tc.prompt || r.OutputTokens != tc.output || r.Usage != tc.usage {
					t.Errorf("usage %v %d/%d, want %v %d/%d", r.Usage, r.PromptTokens, r.OutputTokens, tc.usage, tc.prompt, tc.output)
				}
				if fmt.Sprint(r.Scores) != fmt.Sprint(tc.scores) && !(len(r.Scores) == 0 && len(tc.scores) == 0) {
					t.Errorf("scores %v, want %v", r.Scores, tc.scores)
				}
				if r.MissingYes != tc.missYes {
					t.Errorf("missing yes %d, want %d", r.MissingYes, tc.missYes)
				}
			} else if tc.first != 0 && r.FirstToken != tc.first {
				t.Errorf("first %v, want %v", r.FirstToken, tc.first)
			}
			wantStatus := tc.status
			if wantStatus == 0 {
				wantStatus = 200
			}
			if r.Status != wantStatus {
				t.Errorf("status %d, want %d", r.Status, wantStatus)
			}
		})
	}
}

// TestClientRequest checks what reaches the server: the body as given,
// the headers, extension fields untouched.
func TestClientRequest(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	bodies := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(b)
		_, _ = io.WriteString(w, sse(evTok0, evDone))
	}))
	defer srv.Close()
	body := `{"model":"rr","prompt":"q","max_tokens":1,"temperature":0,"allowed_token_ids":[9693,2152],"logprobs":20,"stream":true}`
	c, err := newClient(Phase{}, &Options{BaseURL: srv.URL + "/", Endpoint: "v1/completions", APIKey: "sk-1",
		Header: http.Header{"X-Extra": {"1"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{}
	c.do(context.Background(), &workload.Request{Body: []byte(body), Prompts: 1}, r, tickClock())
	req := <-got
	if b := <-bodies; b != body {
		t.Errorf("body %s, want %s", b, body)
	}
	for k, want := range map[string]string{"Authorization": "Bearer sk-1", "Content-Type": "application/json",
		"Accept": "text/event-stream", "X-Extra": "1", "X-Idempotency-Key": ""} {
		if v := req.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if req.URL.Path != "/v1/completions" || req.Method != http.MethodPost || req.ProtoMajor != 1 {
		t.Errorf("got %s %s HTTP/%d, want POST /v1/completions HTTP/1", req.Method, req.URL.Path, req.ProtoMajor)
	}
	if r.Failed() {
		t.Errorf("request failed: %s %s", r.Kind, r.Err)
	}
}

// rawServer accepts one connection at a time and answers with handle.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(conn)
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestClientFailures(t *testing.T) {
	t.Parallel()
	// A server that sends one chunk and drops the connection mid-stream.
	dropped := rawServer(t, func(conn net.Conn) {
		defer conn.Close()
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf)
		chunk := "data: " + evTok0 + "\n\n"
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(chunk), chunk)
	})
	// A server that reads the request and never answers.
	silent := rawServer(t, func(conn net.Conn) {
		defer conn.Close()
		_, _ = io.Copy(io.Discard, conn)
	})
	// A port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		abort   bool // cancel the request context with a cause
		kind    string
		err     string
	}{
		// The connection breaks after a chunk: a stream error naming when.
		{name: "dropped connection", url: dropped, kind: KindStream, err: "connection dropped after 1 choice chunks"},
		// Nothing listens: connect.
		{name: "connection refused", url: closed, kind: KindConnect, err: "connection refused"},
		// No response within the request timeout.
		{name: "timeout before response", url: silent, timeout: 50 * ms, kind: KindTimeout, err: "request timeout (50ms) before a response"},
		// loadgen aborts the request (drain over): canceled, with the cause.
		{name: "aborted", url: silent, abort: true, kind: KindCanceled, err: "drain period over"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := newClient(Phase{RequestTimeout: tc.timeout}, &Options{BaseURL: tc.url})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tc.abort {
				go func() {
					time.Sleep(20 * ms) // the outcome is the same whenever it lands
					cancel(errDrained)
				}()
			}
			r := &Result{}
			c.do(ctx, &workload.Request{Body: SyntheticBody, Prompts: 1}, r, tickClock())
			if r.Kind != tc.kind || !strings.Contains(r.Err, tc.err) {
				t.Errorf("got %q %q, want %q containing %q", r.Kind, r.Err, tc.kind, tc.err)
			}
		})
	}
}

// TestClientTimeoutMidStream checks a stream that stalls after its first
// chunk: the request times out at exactly its timeout, as a timeout after
// one choice chunk. It runs net/http's real client and server code over a
// net.Pipe in a synctest bubble, so the clock is fake: the timeout fires
// only once the client has read the first chunk and everything is blocked
// (the server waits for the client to give up), however slow the machine.
func TestClientTimeoutMidStream(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srvConn, cliConn := net.Pipe()
		// The server reads the request, sends headers and one chunk, and
		// stalls until the client closes the connection.
		go func() {
			defer srvConn.Close()
			br := bufio.NewReader(srvConn)
			req, err := http.ReadRequest(br)
			if err != nil {
				t.Errorf("server: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			chunk := "data: " + evTok0 + "\n\n"
			_, _ = fmt.Fprintf(srvConn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(chunk), chunk)
			_, _ = io.Copy(io.Discard, br) // until the client gives up
		}()
		dial := func(context.Context, string, string) (net.Conn, error) { return cliConn, nil }
		c, err := newClient(Phase{RequestTimeout: 500 * ms}, &Options{BaseURL: "http://pipe", Dial: dial})
		if err != nil {
			t.Fatal(err)
		}
		defer c.w.closeIdle()
		start := time.Now()
		r := &Result{}
		c.do(context.Background(), &workload.Request{Body: SyntheticBody, Prompts: 1}, r, func() time.Duration { return time.Since(start) })
		if r.Kind != KindTimeout || r.Err != "request timeout (500ms) after 1 choice chunks" {
			t.Errorf("got %q %q, want %q \"request timeout (500ms) after 1 choice chunks\"", r.Kind, r.Err, KindTimeout)
		}
		if r.Chunks != 1 || r.FirstToken != 0 || r.End != 500*ms {
			t.Errorf("chunks %d, first token %v, end %v; want 1, 0s (no time passes in the pipe), 500ms (the timeout)", r.Chunks, r.FirstToken, r.End)
		}
	})
}

func TestNewClientErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"", "base URL is empty"},          // nothing to send to
		{"ftp://h", "scheme must be http"}, // not HTTP
		{"http://h:bad", "endpoint URL"},   // unparsable port
	} {
		if _, err := newClient(Phase{}, &Options{BaseURL: tc.url}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.url, err, tc.want)
		}
	}
}

// TestClientScoresNotReused checks that a pooled stream does not carry
// logprobs from one request into the next.
func TestClientScoresNotReused(t *testing.T) {
	t.Parallel()
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	bodies := []string{sse(logprobsEv(0, `{"token_id:9693":-3,"no":-0.2}`), evDone), sse(logprobsEv(0, `{"no":-0.01}`), evDone)}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, bodies[n.Add(1)-1])
	}))
	defer srv.Close()
	c, err := newClient(Phase{}, &Options{BaseURL: srv.URL, Scorer: &scorer})
	if err != nil {
		t.Fatal(err)
	}
	defer c.w.closeIdle()
	st := &stream{sse: newSSEReader(nil, DefaultMaxEventBytes)}
	for i := range bodies {
		r := &Result{Prompts: 1}
		cn, err := c.w.send(context.Background(), []byte("{}"), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		st.sse.reset(&cn.body, DefaultMaxEventBytes)
		c.read(context.Background(), st, &workload.Request{Prompts: 1}, r, time.Time{}, tickClock())
		cn.release()
		if i == 1 && (r.MissingYes != 1 || r.Scores[0] != 1/(1+math.Exp(-0.01+10))) {
			t.Errorf("second request: scores %v missing yes %d, want the first request's keys gone", r.Scores, r.MissingYes)
		}
	}
}
