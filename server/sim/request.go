package sim

import (
	"sync"
	"sync/atomic"
	"time"
)

// seq is one prompt of a completion request: one engine request in vLLM's
// terms (a list prompt of P prompts makes P of them).
type seq struct {
	req       *request
	index     int
	info      *promptInfo
	nPrompt   int
	maxTokens int
	hashes    []uint64 // prefix-cache block hashes (prefix caching only)
	arrived   time.Time
	slow      float64 // fault injection: multiplies this sequence's step times

	// Written by the engine before it publishes the event that makes them
	// visible (under request.mu), read by the handler afterwards.
	generated    int
	padded       int
	cached       int
	scheduled    time.Time // prefill step start (planned)
	firstToken   time.Time // prefill step end (planned)
	finished     time.Time // last token's step end (planned)
	modelPrefill float64   // modelled seconds, before dividing by speed
	modelDecode  float64
	reason       string // finish reason: "length" or "abort"
}

type eventKind uint8

const (
	evToken eventKind = iota // token pos of seq produced at `at`
	evError                  // the engine failed this request (err)
)

// event is what the engine tells a request's handler.
type event struct {
	kind   eventKind
	seq    int
	pos    int
	at     time.Time
	finish bool
	err    string
}

// request is one HTTP completion request in flight. The engine appends
// events; the handler waits on notify and drains them. Once the handler
// closes the request (client gone, error sent) pushes are refused, so every
// finished sequence is accounted exactly once: by the handler when it
// consumed the finish event, by the engine (as an abort) otherwise.
type request struct {
	id        string
	seqs      []*seq
	cancelled atomic.Bool

	mu     sync.Mutex
	closed bool
	events []event
	notify chan struct{}
}

func newRequest(id string) *request {
	return &request{id: id, notify: make(chan struct{}, 1)}
}

// push delivers an event; false if the handler has closed the request.
func (r *request) push(ev event) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return true
}

// take moves the pending events into buf (reused) and returns it.
func (r *request) take(buf []event) []event {
	r.mu.Lock()
	buf = append(buf[:0], r.events...)
	r.events = r.events[:0]
	r.mu.Unlock()
	return buf
}

// close refuses further events, asks the engine to drop the request's
// waiting and running sequences, and returns the events not yet taken.
func (r *request) close(buf []event) []event {
	r.cancelled.Store(true)
	r.mu.Lock()
	r.closed = true
	buf = append(buf[:0], r.events...)
	r.events = nil
	r.mu.Unlock()
	return buf
}
