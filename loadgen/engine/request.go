package engine

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Error kinds, the keys of PhaseResult.Errors.
const (
	KindConnect         = "connect"            // dial or connection failure before a response
	KindTimeout         = "timeout"            // Phase.RequestTimeout expired
	KindHTTP4xx         = "http_4xx"           // non-200 status 400–499
	KindHTTP5xx         = "http_5xx"           // status 500–599
	KindStream          = "stream_error"       // error event, malformed or cut stream
	KindMissingLogprobs = "missing_logprobs"   // scoring, but a choice had no logprobs
	KindMissingChoices  = "missing_choices"    // the stream ended before every prompt's choice arrived
	KindBadChoiceIndex  = "bad_choice_index"   // a choice index outside 0..prompts−1
	KindDuplicateChoice = "duplicate_choice"   // a choice streamed more chunks than max_tokens allows
	KindTooLarge        = "response_too_large" // an SSE line or event over Options.MaxEventBytes
	KindCanceled        = "canceled"           // aborted by loadgen (interrupt, server exit)
	KindOther           = "other"              // anything else (other statuses, …)
)

// Result is the outcome of one request: plain data, from which the
// collector derives every metric. Stamps are offsets from the run's base
// instant, taken from the monotonic clock.
type Result struct {
	// Query and Cycle identify the item; Request is the request's index
	// within it.
	Query, Cycle, Request int
	// Warmup marks requests of warmup queries.
	Warmup bool
	// Prompts is the number of prompts (choices) the request carried.
	Prompts int
	// Scheduled is when the query was due, Sent when the request was handed
	// to the HTTP client, FirstToken when the first SSE chunk with a
	// non-empty choices arrived and End when the last one did (or when the
	// request failed).
	Scheduled, Sent, FirstToken, End time.Duration
	// NotSent marks a request the phase stopped before sending.
	NotSent bool
	// Status is the HTTP status (0 when no response arrived).
	Status int
	// PromptTokens and OutputTokens come from the final usage chunk; Usage
	// says whether there was one.
	PromptTokens, OutputTokens int64
	Usage                      bool
	// Chunks counts SSE chunks with choices.
	Chunks int
	// Kind is the error kind ("" on success) and Err its message.
	Kind, Err string
	// ITL holds the gaps between successive chunks of the same choice.
	ITL []time.Duration
	// Scores holds P(yes) per choice index when scoring.
	Scores []float64
	// MissingYes and MissingNo count choices whose top logprobs lacked
	// "yes" or "no".
	MissingYes, MissingNo int

	q       *queryState   // the query this request belongs to
	choices []choiceState // per choice index, while the stream is read

	conn     *wireConn // written by the client's post, answered by its do
	deadline time.Time // the request's deadline, from post to do
}

// choiceState is what the client tracks of one choice of a request.
type choiceState struct {
	chunks int           // chunks seen
	last   time.Duration // stamp of the last one
}

// Failed reports whether the request failed.
func (r *Result) Failed() bool { return r.Kind != "" }

// fail records the first error of a request.
func (r *Result) fail(kind, msg string) {
	if r.Kind == "" {
		r.Kind, r.Err = kind, r.withHint(kind, msg)
	}
}

// startChoices prepares the accounting of a request with n prompts: no
// choice seen yet and, when scoring, every score NaN until its choice
// arrives.
func (r *Result) startChoices(n int, scoring bool) {
	r.choices = slices.Grow(r.choices[:0], n)[:n]
	clear(r.choices)
	r.Scores = r.Scores[:0]
	if scoring {
		for range n {
			r.Scores = append(r.Scores, math.NaN())
		}
	}
}

// complete checks, when the stream has ended at t, that every prompt's
// choice arrived: a request with n prompts must have streamed choice
// indices 0..n−1, each at least once. A missing one fails the request
// (its document would otherwise go unscored without a trace).
func (r *Result) complete(t time.Duration) {
	got, first := 0, -1
	for i := range r.choices {
		if r.choices[i].chunks > 0 {
			got++
		} else if first < 0 {
			first = i
		}
	}
	if first < 0 {
		return
	}
	r.End = t
	r.fail(KindMissingChoices, fmt.Sprintf("stream ended with %d of %d choices (index %d missing)", got, len(r.choices), first))
}

// TTFT is FirstToken − Sent.
func (r *Result) TTFT() time.Duration { return r.FirstToken - r.Sent }

// E2E is End − Sent.
func (r *Result) E2E() time.Duration { return r.End - r.Sent }

// reset clears r for reuse, keeping the capacity of its slices.
func (r *Result) reset() {
	itl, sc, ch := r.ITL[:0], r.Scores[:0], r.choices[:0]
	*r = Result{ITL: itl, Scores: sc, choices: ch}
}

var resultPool = sync.Pool{New: func() any { return new(Result) }}

func getResult() *Result { return resultPool.Get().(*Result) }

func putResult(r *Result) {
	if cap(r.ITL) > 4096 || cap(r.Scores) > 4096 || cap(r.choices) > 4096 {
		return // let unusually large ones go
	}
	r.reset()
	resultPool.Put(r)
}
