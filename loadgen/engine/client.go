package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
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
	hc      *http.Client
	tmpl    *http.Request // method, URL and headers, shared read-only
	timeout time.Duration
	scorer  *workload.Scorer
	missing string
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
	return &client{hc: hc, tmpl: tmpl, timeout: ph.RequestTimeout, scorer: o.Scorer, missing: missing}, nil
}

// stream holds the per-request reading state, pooled across requests.
type stream struct {
	sse *sseReader
	ck  chunk
}

var streamPool = sync.Pool{New: func() any { return &stream{sse: newSSEReader(nil)} }}

// maxChoiceIndex bounds choice indices (a batch never holds more prompts).
const maxChoiceIndex = 1 << 16

// do sends one request and fills r. r.Sent is stamped by the caller just
// before; now reads the run's clock.
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
		text, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		r.End = now()
		msg := errorMessage(text)
		if err != nil && msg == "" {
			msg = err.Error()
		}
		r.fail(statusKind(resp.StatusCode), fmt.Sprintf("HTTP %d: %s", resp.StatusCode, msg))
		return
	}
	st := streamPool.Get().(*stream)
	st.sse.reset(resp.Body)
	if c.read(ctx, st, r, now) {
		// Consume the end of the chunked body so the connection is reused.
		_, _ = io.CopyN(io.Discard, st.sse.br, 64<<10)
	}
	st.sse.reset(nil)
	streamPool.Put(st)
}

// read consumes the SSE stream into r. It reports whether the stream ended
// cleanly with [DONE].
func (c *client) read(ctx context.Context, st *stream, r *Result, now func() time.Duration) bool {
	for {
		data, err := st.sse.next()
		t := now()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.End = t
			r.fail(classify(ctx, err, c.timeout, false, r.Chunks))
			return false
		}
		if string(bytes.TrimSpace(data)) == "[DONE]" {
			if r.Chunks == 0 {
				r.End = t
				r.fail(KindStream, "stream ended without a chunk with choices")
			}
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
			for i := range ck.choices {
				idx := ck.choices[i].index
				if idx < 0 || idx >= maxChoiceIndex {
					r.fail(KindStream, fmt.Sprintf("choice index %d out of range", idx))
					return false
				}
				for len(r.last) <= idx {
					r.last = append(r.last, -1)
				}
				if prev := r.last[idx]; prev >= 0 {
					r.ITL = append(r.ITL, t-prev)
				}
				r.last[idx] = t
			}
			if c.scorer != nil {
				if kind, msg := c.score(st, r); kind != "" {
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
	if r.Chunks == 0 {
		r.End = now()
		r.fail(KindStream, "stream ended without a chunk with choices")
	}
	return false
}

// score records P(yes) by choice index for every choice of the current
// chunk not scored yet, from the yes/no logprobs chunk.parse read.
func (c *client) score(st *stream, r *Result) (kind, msg string) {
	if err := st.ck.choiceErr(); err != nil {
		return KindStream, clip("malformed choices: " + err.Error())
	}
	for i := range st.ck.choices {
		ch := &st.ck.choices[i]
		idx := ch.index
		for len(r.seen) <= idx {
			r.seen = append(r.seen, false)
			r.Scores = append(r.Scores, math.NaN())
		}
		if r.seen[idx] {
			continue
		}
		r.seen[idx] = true
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
	}
	return "", ""
}
