package sim

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"loadgen/server/neuron"
)

// engine is the simulated EngineCore: one goroutine that owns the waiting
// queue and the running batch and advances a timeline of steps. A step is
// either one prefill (the head of the queue, when fewer than max_num_seqs
// are running) or one decode step of every running sequence, never both
// (the Neuron scheduler does not mix them). Each step starts where the
// previous one ended, or at the arrival that woke an idle engine, and the
// engine sleeps until the step's planned end; events carry the planned
// time, so a late timer wake-up delays delivery but never shifts the
// timeline.
type engine struct {
	lat      LatencyModel
	nc       NeuronConfig
	tp       int
	speed    float64
	zero     bool
	jitter   float64
	maxSeqs  int
	kernel   bool // prefix-caching kernel (compiled is_prefix_caching)
	cache    *prefixCache
	blockLen int // tokens per KV block, for kv_cache_usage_perc
	blocks   int // KV blocks in total
	now      func() time.Time
	onDeath  func(exception string)
	onAbort  func(s *seq) // a sequence dropped because its client went away

	mu       sync.Mutex
	halted   bool // no more steps: submissions fail at once
	incoming []*seq
	wake     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	rng      *rand.Rand // jitter; engine goroutine (or mu in zero mode)

	// Engine goroutine state.
	waiting []*seq
	running []*seq
	clock   time.Time
	warm    map[neuron.CTEBucket]bool // context buckets already run (skip_warmup)

	// Gauges and busy time, read by /metrics and Stats.
	nWaiting  atomic.Int64
	nRunning  atomic.Int64
	kvUsed    atomic.Int64
	busyWall  atomic.Int64 // ns of planned step time
	busyModel atomic.Uint64
	prefills  atomic.Int64
	decodes   atomic.Int64
}

func newEngine(s *Server) *engine {
	o := s.opts
	e := &engine{
		lat:      o.Latency,
		nc:       s.cfg.Neuron,
		tp:       o.TensorParallelSize,
		speed:    o.Speed,
		zero:     o.ZeroLatency,
		jitter:   o.Jitter,
		maxSeqs:  o.MaxNumSeqs,
		kernel:   s.cfg.Neuron.IsPrefixCaching,
		blockLen: s.cfg.BlockSize,
		blocks:   max(1, s.cfg.NumBlocks),
		now:      time.Now,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		rng:      rand.New(rand.NewPCG(uint64(o.SimSeed), 0x51ed)),
		warm:     map[neuron.CTEBucket]bool{},
	}
	if o.PrefixCaching {
		e.cache = newPrefixCache(s.cfg.BlockSize, s.cfg.NumBlocks)
	}
	return e
}

// submit hands a request's sequences to the engine in arrival order. In
// zero-latency mode they are served at once on the caller's goroutine.
func (e *engine) submit(r *request) {
	if e.zero {
		e.instant(r)
		return
	}
	e.mu.Lock()
	if e.halted {
		e.mu.Unlock()
		r.push(event{kind: evError, err: EngineDeadMessage, at: e.now()})
		return
	}
	e.incoming = append(e.incoming, r.seqs...)
	e.nWaiting.Add(int64(len(r.seqs)))
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// halt stops the engine goroutine; later submissions fail at once.
func (e *engine) halt() {
	e.mu.Lock()
	e.halted = true
	e.mu.Unlock()
	e.stopOnce.Do(func() { close(e.stop) })
}

// run is the engine goroutine; it returns when halted or when the engine
// dies.
func (e *engine) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		e.mu.Lock()
		e.waiting = append(e.waiting, e.incoming...)
		clear(e.incoming)
		e.incoming = e.incoming[:0]
		e.mu.Unlock()
		e.dropCancelled()
		if len(e.waiting) == 0 && len(e.running) == 0 {
			select {
			case <-e.wake:
				continue
			case <-e.stop:
				e.failAll("engine stopped")
				return
			}
		}
		var end time.Time
		var ok bool
		if len(e.waiting) > 0 && len(e.running) < e.maxSeqs {
			end, ok = e.prefill(timer)
		} else {
			end, ok = e.decode(timer)
		}
		if !ok {
			return
		}
		e.clock = end
	}
}

// sleepUntil waits for the planned end of a step; false if halted.
func (e *engine) sleepUntil(timer *time.Timer, end time.Time) bool {
	d := end.Sub(e.now())
	if d <= 0 {
		select {
		case <-e.stop:
			return false
		default:
			return true
		}
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-e.stop:
		timer.Stop()
		return false
	}
}

func (e *engine) jitterFactor() float64 {
	if e.jitter == 0 {
		return 1
	}
	j := e.rng.NormFloat64() * e.jitter
	return math.Max(0.1, 1+math.Max(-3*e.jitter, math.Min(3*e.jitter, j)))
}

func (e *engine) wall(model float64) time.Duration {
	return time.Duration(model / e.speed * float64(time.Second))
}

// prefill runs one context-encoding step for the head of the queue.
func (e *engine) prefill(timer *time.Timer) (time.Time, bool) {
	s := e.waiting[0]
	cached := e.cache.match(s.hashes, s.nPrompt)
	bucket, err := e.pickCTE(s, cached)
	if err != nil {
		e.die(err.Error())
		return time.Time{}, false
	}
	padded := bucket.Padded()
	e.waiting = e.waiting[1:]
	start := e.clock
	if s.arrived.After(start) {
		start = s.arrived
	}
	model := e.lat.Prefill(padded, e.kernel, e.tp) * e.jitterFactor() * s.slow
	if e.nc.SkipWarmup && !e.warm[bucket] {
		e.warm[bucket] = true
		model += e.lat.ColdBucket
	}
	s.padded = padded
	s.cached = cached
	s.scheduled = start
	s.modelPrefill = model
	e.nWaiting.Add(-1)
	e.nRunning.Add(1)
	e.kvUsed.Add(int64(e.blocksOf(s.nPrompt + s.maxTokens)))
	end := start.Add(e.wall(model))
	e.account(end.Sub(start), model)
	e.prefills.Add(1)
	if !e.sleepUntil(timer, end) {
		e.waiting = append([]*seq{s}, e.waiting...)
		e.failAll("engine stopped")
		return end, false
	}
	s.firstToken = end
	s.generated = 1
	e.cache.insert(s.hashes) // computed full blocks are shareable at once
	if s.maxTokens <= 1 {
		e.finish(s, end, "length")
		if !s.req.push(event{kind: evToken, seq: s.index, pos: 0, at: end, finish: true}) {
			s.reason = "abort"
			e.onAbort(s)
		}
	} else {
		e.running = append(e.running, s)
		s.req.push(event{kind: evToken, seq: s.index, pos: 0, at: end})
	}
	return end, true
}

// decode runs one token-generation step over the running batch.
func (e *engine) decode(timer *time.Timer) (time.Time, bool) {
	start := e.clock
	longest, slow := 0, 1.0
	for _, s := range e.running {
		longest = max(longest, s.nPrompt+s.generated)
		slow = math.Max(slow, s.slow)
	}
	bucket, ok := e.nc.Buckets.PickTKG(longest)
	if !ok {
		bucket = e.nc.Buckets.TKG[len(e.nc.Buckets.TKG)-1]
	}
	model := e.lat.Decode(bucket, e.tp) * e.jitterFactor() * slow
	end := start.Add(e.wall(model))
	e.account(end.Sub(start), model)
	e.decodes.Add(1)
	if !e.sleepUntil(timer, end) {
		e.failAll("engine stopped")
		return end, false
	}
	kept := e.running[:0]
	for _, s := range e.running {
		pos := s.generated
		s.generated++
		s.modelDecode += model
		done := s.generated >= s.maxTokens
		if done {
			e.finish(s, end, "length")
		} else {
			kept = append(kept, s)
		}
		if !s.req.push(event{kind: evToken, seq: s.index, pos: pos, at: end, finish: done}) && done {
			s.reason = "abort"
			e.onAbort(s)
		}
	}
	clear(e.running[len(kept):])
	e.running = kept
	return end, true
}

func (e *engine) finish(s *seq, at time.Time, reason string) {
	s.finished = at
	s.reason = reason
	e.nRunning.Add(-1)
	e.kvUsed.Add(-int64(e.blocksOf(s.nPrompt + s.maxTokens)))
}

func (e *engine) account(wall time.Duration, model float64) {
	e.busyWall.Add(int64(wall))
	for {
		old := e.busyModel.Load()
		if e.busyModel.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+model)) {
			return
		}
	}
}

// pickCTE is NxDI's context-encoding bucket for a prompt whose first
// cached tokens are prefix-cache hits (package neuron): 1-D without prefix
// caching, the 2-D (prefill, prefix) ladder with it. The error is the
// engine's death.
func (e *engine) pickCTE(s *seq, cached int) (neuron.CTEBucket, error) {
	if !e.nc.Buckets.TwoD() {
		cached = 0
	}
	return e.nc.Buckets.PickCTE(s.nPrompt, cached)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (e *engine) blocksOf(tokens int) int {
	if e.blockLen <= 0 {
		return 1
	}
	return ceilDiv(tokens, e.blockLen)
}

// dropCancelled removes sequences whose client went away (vLLM aborts
// them when the connection closes).
func (e *engine) dropCancelled() {
	kept := e.waiting[:0]
	for _, s := range e.waiting {
		if s.req.cancelled.Load() {
			s.reason = "abort"
			e.nWaiting.Add(-1)
			e.onAbort(s)
			continue
		}
		kept = append(kept, s)
	}
	clear(e.waiting[len(kept):])
	e.waiting = kept
	running := e.running[:0]
	for _, s := range e.running {
		if s.req.cancelled.Load() {
			s.reason = "abort"
			s.finished = e.clock
			e.nRunning.Add(-1)
			e.kvUsed.Add(-int64(e.blocksOf(s.nPrompt + s.maxTokens)))
			e.onAbort(s)
			continue
		}
		running = append(running, s)
	}
	clear(e.running[len(running):])
	e.running = running
}

// die kills the engine: every request in flight fails, and the server is
// told (it answers 500 from now on and, unless kept alive, exits).
func (e *engine) die(exception string) {
	e.failAll(EngineDeadMessage)
	e.onDeath(exception)
}

// failAll fails every sequence the engine holds.
func (e *engine) failAll(msg string) {
	e.mu.Lock()
	e.waiting = append(e.waiting, e.incoming...)
	e.incoming = nil
	e.mu.Unlock()
	seen := map[*request]bool{}
	for _, list := range [][]*seq{e.waiting, e.running} {
		for _, s := range list {
			if !seen[s.req] {
				seen[s.req] = true
				s.req.push(event{kind: evError, err: msg, at: e.now()})
			}
		}
	}
	e.waiting, e.running = nil, nil
	e.nWaiting.Store(0)
	e.nRunning.Store(0)
	e.kvUsed.Store(0)
}

// instant serves a request with no model delay (zero-latency mode): every
// token is produced now, on the caller's goroutine.
func (e *engine) instant(r *request) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range r.seqs {
		cached := e.cache.match(s.hashes, s.nPrompt)
		bucket, err := e.pickCTE(s, cached)
		if err != nil {
			r.push(event{kind: evError, err: EngineDeadMessage, at: now})
			e.onDeath(err.Error())
			return
		}
		s.padded = bucket.Padded()
		s.cached = cached
		s.scheduled, s.firstToken, s.finished = now, now, now
		s.generated = max(1, s.maxTokens)
		s.reason = "length"
		e.cache.insert(s.hashes)
		e.prefills.Add(1)
		for pos := 0; pos < s.generated; pos++ {
			r.push(event{kind: evToken, seq: s.index, pos: pos, at: now, finish: pos == s.generated-1})
		}
	}
}
