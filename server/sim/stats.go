package sim

import (
	"math"
	"sync"
	"time"
)

// Stats is the simulator's own record of what it served and when: the
// ground truth for loadgen's measurement accuracy. Times of a sequence are
// the engine's planned timeline (what a real engine would have done);
// Written is when the handler actually wrote the token, so Written −
// FirstToken is the simulator's own delivery lateness.
type Stats struct {
	// Requests counts POST /v1/completions requests received; OK those
	// answered in full, Failed those answered with an error (HTTP status
	// or in-stream), Dropped those whose connection the simulator dropped,
	// Cancelled those whose client went away first.
	Requests  int64
	OK        int64
	Failed    int64
	Dropped   int64
	Cancelled int64
	// Faults counts injected faults by kind ("error", "stream_error",
	// "slow", "drop", "crash").
	Faults map[string]int64

	// Prompts counts sequences (one per prompt) finished or aborted.
	Prompts          int64
	PromptTokens     int64
	PaddedTokens     int64
	GenerationTokens int64
	CachedTokens     int64

	// Engine steps and busy time: EngineBusy is wall time of planned steps,
	// ModelBusy the same in model time (before dividing by the speed).
	Prefills    int64
	DecodeSteps int64
	EngineBusy  time.Duration
	ModelBusy   time.Duration

	// Seqs are per-prompt records in completion order, at most
	// Options.StatsCap of the most recent; SeqsDropped counts older ones
	// that were discarded.
	Seqs        []SeqStat
	SeqsDropped int64
}

// SeqStat is one prompt's record.
type SeqStat struct {
	RequestID    string
	Index        int // prompt index within the request (choice index)
	PromptTokens int
	PaddedTokens int // context bucket the prefill ran in
	CachedTokens int // prefix-cache hit
	OutputTokens int
	FinishReason string // "length" or "abort"

	Arrived    time.Time
	Scheduled  time.Time // prefill start
	FirstToken time.Time // prefill end
	Finished   time.Time
	// Written is when the first token's chunk (or the response) was
	// written to the connection.
	Written time.Time

	// Model times (seconds of simulated hardware, not divided by speed).
	ModelPrefill float64
	ModelDecode  float64
}

// Queue is the time spent waiting for the prefill.
func (s SeqStat) Queue() time.Duration { return s.Scheduled.Sub(s.Arrived) }

// TTFT is arrival to first token (server side).
func (s SeqStat) TTFT() time.Duration { return s.FirstToken.Sub(s.Arrived) }

// E2E is arrival to the last token.
func (s SeqStat) E2E() time.Duration { return s.Finished.Sub(s.Arrived) }

// statsRecorder accumulates Stats.
type statsRecorder struct {
	mu   sync.Mutex
	st   Stats
	ring []SeqStat
	next int
	cap  int
}

func newStatsRecorder(capacity int) *statsRecorder {
	return &statsRecorder{cap: max(0, capacity), st: Stats{Faults: map[string]int64{}}}
}

func (r *statsRecorder) add(f func(st *Stats)) {
	r.mu.Lock()
	f(&r.st)
	r.mu.Unlock()
}

func (r *statsRecorder) seq(s *seq, written time.Time) {
	rec := SeqStat{
		RequestID: s.req.id, Index: s.index, PromptTokens: s.nPrompt, PaddedTokens: s.padded,
		CachedTokens: s.cached, OutputTokens: s.generated, FinishReason: s.reason,
		Arrived: s.arrived, Scheduled: s.scheduled, FirstToken: s.firstToken, Finished: s.finished,
		Written: written, ModelPrefill: s.modelPrefill, ModelDecode: s.modelDecode,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Prompts++
	r.st.PromptTokens += int64(s.nPrompt)
	r.st.PaddedTokens += int64(s.padded)
	r.st.GenerationTokens += int64(s.generated)
	r.st.CachedTokens += int64(s.cached)
	if r.cap == 0 {
		r.st.SeqsDropped++
		return
	}
	if len(r.ring) < r.cap {
		r.ring = append(r.ring, rec)
		return
	}
	r.ring[r.next] = rec
	r.next = (r.next + 1) % r.cap
	r.st.SeqsDropped++
}

// totals returns the counters without the per-sequence records.
func (r *statsRecorder) totals(e *engine) Stats {
	r.mu.Lock()
	st := r.st
	r.mu.Unlock()
	st.Faults, st.Seqs = nil, nil
	st.Prefills = e.prefills.Load()
	st.DecodeSteps = e.decodes.Load()
	return st
}

// snapshot returns a deep copy with the per-sequence records in order.
func (r *statsRecorder) snapshot(e *engine) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Faults = make(map[string]int64, len(r.st.Faults))
	for k, v := range r.st.Faults {
		st.Faults[k] = v
	}
	st.Seqs = make([]SeqStat, 0, len(r.ring))
	st.Seqs = append(st.Seqs, r.ring[r.next:]...)
	st.Seqs = append(st.Seqs, r.ring[:r.next]...)
	st.Prefills = e.prefills.Load()
	st.DecodeSteps = e.decodes.Load()
	st.EngineBusy = time.Duration(e.busyWall.Load())
	st.ModelBusy = time.Duration(math.Float64frombits(e.busyModel.Load()) * float64(time.Second))
	return st
}
