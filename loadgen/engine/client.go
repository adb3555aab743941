package engine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"loadgen/workload"
)

// client sends completion requests and reads their SSE streams.
//
// It does not go through go-openai. Its CompletionRequest cannot express
// what the reranker needs (temperature 0 is dropped by omitempty;
// allowed_token_ids and other vLLM extensions have no field), and workload
// encodes each body once anyway, so only the response side could use it.
// There its stream reader hides what a benchmark must see: it stamps
// nothing, turns non-200 bodies into its own error type, and decodes every
// chunk into full structs by reflection. Nor does it go through net/http's
// client (see wire). A lean HTTP/1.1 transport (wire.go), SSE reader
// (sse.go) and one-pass scan of each chunk for what is measured and scored
// (chunk.go) keep the hot path to a few allocations per request, on the
// request's own goroutine, and keep stamps next to the bytes.
type client struct {
	w        *wire
	timeout  time.Duration
	scorer   *workload.Scorer
	missing  string
	maxEvent int // Options.MaxEventBytes or its default
}

// newClient prepares the transport and request head of a phase.
func newClient(ph Phase, o *Options) (*client, error) {
	if o.BaseURL == "" {
		return nil, fmt.Errorf("loadgen: base URL is empty")
	}
	ep := o.Endpoint
	if ep == "" {
		ep = DefaultEndpoint
	}
	raw := strings.TrimRight(o.BaseURL, "/") + "/" + strings.TrimLeft(ep, "/")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("loadgen: endpoint URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("loadgen: endpoint URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("loadgen: endpoint URL %q: want http(s)://host[:port]/path, without user or fragment", raw)
	}
	if _, err := strconv.ParseUint(cmp.Or(u.Port(), "80"), 10, 16); err != nil {
		return nil, fmt.Errorf("loadgen: endpoint URL %q: bad port %q", raw, u.Port())
	}
	h := http.Header{}
	for k, vs := range o.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("User-Agent", UserAgent)
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "text/event-stream")
	if o.APIKey != "" {
		h.Set("Authorization", "Bearer "+o.APIKey)
	}
	proxy, err := proxyUnlessLoopback(&http.Request{URL: u})
	if err != nil {
		return nil, fmt.Errorf("loadgen: proxy for %s: %w", u.Host, err)
	}
	w, err := newWire(u, h, proxy, o, ph.MaxConcurrency)
	if err != nil {
		return nil, fmt.Errorf("loadgen: endpoint URL %q: %w", raw, err)
	}
	missing := o.MissingLogprobs
	if missing == "" {
		missing = MissingLogprobsMessage
	}
	maxEvent := o.MaxEventBytes
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEventBytes
	}
	return &client{w: w, timeout: ph.RequestTimeout, scorer: o.Scorer, missing: missing, maxEvent: maxEvent}, nil
}

// UserAgent is the User-Agent header of every completion request.
const UserAgent = "loadgen"

// stream holds the per-request reading state, pooled across requests.
type stream struct {
	sse *sseReader
	ck  chunk
}

var streamPool = sync.Pool{New: func() any { return &stream{sse: newSSEReader(nil, DefaultMaxEventBytes)} }}

// maxErrorBody bounds the part of a non-200 body that is read: enough for
// any error message, which is clipped to maxErrorText anyway.
const maxErrorBody = 64 << 10

// errorBodyMessage is the message of a non-200 body read up to
// maxErrorBody+1 bytes (err is the read's error), saying when it was cut.
func errorBodyMessage(text []byte, err error) string {
	cut := len(text) > maxErrorBody
	if cut {
		text = text[:maxErrorBody]
	}
	msg := errorMessage(text)
	if err != nil && msg == "" {
		msg = err.Error()
	}
	if cut {
		msg += fmt.Sprintf(" (error body over %d KiB; the rest was not read)", maxErrorBody>>10)
	}
	return msg
}

// do sends one request, or answers the one post wrote, and fills r. r.Sent
// is stamped by the caller just before, or by post; now reads the run's
// clock. req has at least one prompt (checkItem).
func (c *client) do(ctx context.Context, req *workload.Request, r *Result, now func() time.Duration) {
	var cn *wireConn
	var err error
	deadline := r.deadline
	if r.conn != nil {
		cn, err = c.w.answer(ctx, r.conn, req.Body, deadline)
		r.conn = nil
	} else {
		deadline = c.deadline()
		cn, err = c.w.send(ctx, req.Body, deadline)
	}
	if err != nil {
		r.End = now()
		r.fail(c.classify(ctx, err, deadline, true, 0))
		return
	}
	defer cn.release()
	r.Status = cn.status
	body := &cn.body
	if cn.status != http.StatusOK {
		text, err := io.ReadAll(io.LimitReader(body, maxErrorBody+1))
		r.End = now()
		r.fail(statusKind(cn.status), fmt.Sprintf("HTTP %d: %s", cn.status, errorBodyMessage(text, err)))
		return
	}
	st := streamPool.Get().(*stream)
	st.sse.reset(body, c.maxEvent)
	if c.read(ctx, st, req, r, deadline, now) {
		// Consume the end of the chunked body so the connection is reused.
		_, _ = io.CopyN(io.Discard, st.sse.br, 64<<10)
	}
	st.sse.reset(nil, 0)
	streamPool.Put(st)
}

// post writes a request on an idle connection, if there is one, stamping
// r.Sent just before (see poster); do then reads the answer.
func (c *client) post(ctx context.Context, req *workload.Request, r *Result, now func() time.Duration) bool {
	deadline := c.deadline()
	r.Sent = now()
	cn, _ := c.w.post(ctx, req.Body, deadline, false)
	if cn == nil {
		return false // no idle connection: do dials one
	}
	r.conn, r.deadline = cn, deadline
	return true
}

// deadline is the deadline of a request starting now (zero: none).
func (c *client) deadline() time.Time {
	if c.timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.timeout)
}

// classify maps an error of the exchange to a kind and a message (see
// classify): a timeout once the request's deadline has passed is the
// request timeout, and a response head over its bound is too large.
func (c *client) classify(ctx context.Context, err error, deadline time.Time, before bool, chunks int) (kind, msg string) {
	if errors.Is(err, errHeadTooLarge) {
		return KindTooLarge, err.Error()
	}
	if ctx.Err() == nil && !deadline.IsZero() && isTimeout(err) && !time.Now().Before(deadline) {
		ctx = expired{ctx}
	}
	return classify(ctx, err, c.timeout, before, chunks)
}

// expired is a context whose deadline has passed: the request's, kept by
// its connection rather than by a context.
type expired struct{ context.Context }

func (expired) Err() error { return context.DeadlineExceeded }

// read consumes the SSE stream into r. It reports whether the stream ended
// with [DONE] (the connection can then be reused).
func (c *client) read(ctx context.Context, st *stream, req *workload.Request, r *Result, deadline time.Time, now func() time.Duration) bool {
	r.startChoices(req.Prompts, c.scorer != nil)
	for {
		data, err := st.sse.next()
		t := now()
		if err == io.EOF {
			r.complete(t)
			return false
		}
		if err != nil {
			r.End = t
			var big *tooLargeError
			if errors.As(err, &big) {
				r.fail(KindTooLarge, fmt.Sprintf("%v after %d choice chunks", big, r.Chunks))
			} else {
				r.fail(c.classify(ctx, err, deadline, false, r.Chunks))
			}
			return false
		}
		if string(bytes.TrimSpace(data)) == "[DONE]" {
			r.complete(t)
			return true
		}
		ck := &st.ck
		if err := ck.parse(data, c.scorer); err != nil {
			r.End = t
			r.fail(KindStream, clip(fmt.Sprintf("malformed chunk after %d choice chunks: %v: %s", r.Chunks, err, data)))
			return false
		}
		if ck.errRaw != nil {
			r.End = t
			r.fail(KindStream, "error event in stream: "+errorMessage(ck.errRaw))
			return false
		}
		if len(ck.choices) > 0 {
			if r.Chunks == 0 {
				r.FirstToken = t
			}
			r.Chunks++
			r.End = t
			if c.scorer != nil {
				if err := ck.choiceErr(); err != nil {
					r.fail(KindStream, clip("malformed choices: "+err.Error()))
					return false
				}
			}
			for i := range ck.choices {
				if kind, msg := c.choice(r, req, &ck.choices[i], t); kind != "" {
					r.fail(kind, msg)
					return false
				}
			}
		}
		if ck.usage {
			r.Usage = true
			r.PromptTokens, r.OutputTokens = ck.promptTokens, ck.completionTokens
		}
	}
}

// choice accounts for one choice of a chunk read at t: its index must name
// one of the request's prompts, it may stream at most max_tokens chunks,
// and when scoring its first chunk must carry the first token's logprobs,
// from which P(yes) is recorded.
func (c *client) choice(r *Result, req *workload.Request, ch *choice, t time.Duration) (kind, msg string) {
	idx := ch.index
	if idx < 0 || idx >= len(r.choices) {
		return KindBadChoiceIndex, fmt.Sprintf("choice index %d outside 0..%d: the request has %d prompts", idx, len(r.choices)-1, len(r.choices))
	}
	cs := &r.choices[idx]
	cs.chunks++
	if m := req.MaxTokens; m > 0 && cs.chunks > m {
		return KindDuplicateChoice, fmt.Sprintf("choice %d streamed %d chunks: max_tokens %d allows at most %d", idx, cs.chunks, m, m)
	}
	if cs.chunks > 1 {
		r.ITL = append(r.ITL, t-cs.last)
	}
	cs.last = t
	if c.scorer == nil || cs.chunks > 1 {
		return "", ""
	}
	if !ch.scored {
		return KindMissingLogprobs, c.missing
	}
	p, my, mn := c.scorer.Score(&ch.top)
	r.Scores[idx] = p
	if my {
		r.MissingYes++
	}
	if mn {
		r.MissingNo++
	}
	return "", ""
}
