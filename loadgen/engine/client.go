package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
// chunk into full structs by reflection. A lean SSE reader (sse.go) and a
// one-pass scan of each chunk for what is measured and scored (chunk.go)
// keep the hot path to a few allocations per request and keep stamps next
// to the bytes.
type client struct {
	hc       *http.Client
	tmpl     *http.Request // method, URL and headers, shared read-only
	timeout  time.Duration
	scorer   *workload.Scorer
	missing  string
	maxEvent int // Options.MaxEventBytes or its default
}

// newClient prepares the request template of a phase.
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
	tmpl, err := http.NewRequest(http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("loadgen: endpoint URL %q: %w", raw, err)
	}
	for k, vs := range o.Header {
		for _, v := range vs {
			tmpl.Header.Add(k, v)
		}
	}
	tmpl.Header.Set("Content-Type", "application/json")
	tmpl.Header.Set("Accept", "text/event-stream")
	if o.APIKey != "" {
		tmpl.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	// An idempotency key with no value is not sent, but lets the transport
	// replay a POST that lost a race with the server closing an idle
	// keep-alive connection (see net/http.Transport), instead of failing.
	tmpl.Header["X-Idempotency-Key"] = nil
	hc := o.Client
	if hc == nil {
		hc = NewClient(ph.MaxConcurrency)
	}
	missing := o.MissingLogprobs
	if missing == "" {
		missing = MissingLogprobsMessage
	}
	maxEvent := o.MaxEventBytes
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEventBytes
	}
	return &client{hc: hc, tmpl: tmpl, timeout: ph.RequestTimeout, scorer: o.Scorer, missing: missing, maxEvent: maxEvent}, nil
}

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

// do sends one request and fills r. r.Sent is stamped by the caller just
// before; now reads the run's clock. req has at least one prompt
// (checkItem).
func (c *client) do(ctx context.Context, req *workload.Request, r *Result, now func() time.Duration) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	hr := c.tmpl.WithContext(ctx)
	// A NopCloser around a bytes.Reader is what net/http recognises as an
	// in-memory body: headers and body then leave in one write.
	hr.Body = io.NopCloser(bytes.NewReader(req.Body))
	hr.ContentLength = int64(len(req.Body))
	hr.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(req.Body)), nil
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		r.End = now()
		r.fail(classify(ctx, err, c.timeout, true, 0))
		return
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		text, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
		r.End = now()
		r.fail(statusKind(resp.StatusCode), fmt.Sprintf("HTTP %d: %s", resp.StatusCode, errorBodyMessage(text, err)))
		return
	}
	st := streamPool.Get().(*stream)
	st.sse.reset(resp.Body, c.maxEvent)
	if c.read(ctx, st, req, r, now) {
		// Consume the end of the chunked body so the connection is reused.
		_, _ = io.CopyN(io.Discard, st.sse.br, 64<<10)
	}
	st.sse.reset(nil, 0)
	streamPool.Put(st)
}

// read consumes the SSE stream into r. It reports whether the stream ended
// with [DONE] (the connection can then be reused).
func (c *client) read(ctx context.Context, st *stream, req *workload.Request, r *Result, now func() time.Duration) bool {
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
				r.fail(classify(ctx, err, c.timeout, false, r.Chunks))
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
