package engine

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// doer sends one request and fills r (all but Sent, which the dispatcher
// stamps, or the poster did). The HTTP client is one; tests use fakes.
type doer func(ctx context.Context, req *workload.Request, r *Result, now func() time.Duration)

// poster starts a request on the dispatcher's goroutine when it can do so
// at once: it stamps r.Sent and writes the request, and the doer reads the
// answer on a worker. It reports whether it did; when it did not, the
// worker stamps r.Sent and the doer sends the whole request. Writing the
// request where the arrival's timer fired keeps the hand-off to a worker
// (tens of µs when the worker's thread has to be woken) out of the schedule
// lag and out of the gaps between sends.
type poster func(ctx context.Context, req *workload.Request, r *Result, now func() time.Duration) bool

// queryState tracks one query (item) while its requests are in flight.
// The dispatcher fills it before the first request starts; afterwards
// pending and done belong to the request goroutines and the rest to the
// collector.
type queryState struct {
	item      workload.Item
	warmup    bool
	scheduled time.Duration

	pending atomic.Int32  // requests not finished yet
	done    chan struct{} // closed when pending reaches 0 (closed loop only)

	// Owned by the collector.
	left       int // results not collected yet
	failed     bool
	cut        bool // a saturation stop aborted some request
	bad        bool // some request missed an SLO
	firstSent  time.Duration
	end        time.Duration
	maxLag     time.Duration
	scores     []float64
	missingYes int
	missingNo  int
}

// fetched is one item from the prefetcher.
type fetched struct {
	item workload.Item
	err  error
}

// dispatcher sends the requests of each arrival when it is due. It owns the
// schedule and the one timer that waits for it; requests run in their own
// goroutines, bounded by the concurrency cap when there is one.
type dispatcher struct {
	ph      Phase
	do      doer
	post    poster // nil: the worker sends the whole request
	now     func() time.Duration
	sem     chan struct{}   // concurrency cap (nil: none)
	reqCtx  context.Context // canceled to abort in-flight requests
	results chan *Result
	items   <-chan fetched
	stop    <-chan struct{} // closed on interrupt or server exit
	halted  context.Context // done once stop is closed
	work    chan work       // to idle workers
	idle    chan struct{}   // closed when the phase is over: workers exit
	workers sync.WaitGroup  // worker goroutines
	fine    *fineTimer      // precise wake-ups (nil: runtime timer only)
	pace    pacing          // how early the dispatcher wakes before an arrival
	wg      sync.WaitGroup

	origin    time.Duration // start of the measured part
	startWall time.Time     // wall clock at origin

	// Read by the collector for progress and the result.
	inFlight     atomic.Int64
	dispatched   atomic.Int64 // measured arrivals fully dispatched
	lastDispatch atomic.Int64 // offset (ns) of the last one
	rateBits     atomic.Uint64
	capWaits     atomic.Int64 // requests that waited for a slot
	sourceShort  atomic.Bool  // the source ended before Queries

	afterWarmup func(context.Context) error // Options.AfterWarmup
	hookErr     error                       // its error, for the result
}

// prefetch reads up to n items (0: no limit) from src ahead of the
// dispatcher, so that building an item never delays a due arrival. The
// channel closes after the last item, io.EOF or an error.
func prefetch(ctx context.Context, src workload.Source, n int) <-chan fetched {
	ch := make(chan fetched, 64)
	go func() {
		defer close(ch)
		for i := 0; n == 0 || i < n; i++ {
			it, err := src.Next(ctx)
			if err == io.EOF {
				return
			}
			if err == nil {
				err = checkItem(&it)
			}
			select {
			case ch <- fetched{it, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// checkItem refuses an item the client could not account for: one without
// requests, or with a request of no prompts.
func checkItem(it *workload.Item) error {
	if len(it.Requests) == 0 {
		return fmt.Errorf("workload: query %d has no requests", it.Query)
	}
	for j := range it.Requests {
		if n := it.Requests[j].Prompts; n < 1 {
			return fmt.Errorf("workload: query %d, request %d has %d prompts", it.Query, j, n)
		}
	}
	return nil
}

// next returns the next item; ok is false when there are none (err nil) or
// the source failed.
func (d *dispatcher) next() (it workload.Item, ok bool, err error) {
	select {
	case f, open := <-d.items:
		if !open {
			return it, false, nil
		}
		if f.err != nil {
			return it, false, fmt.Errorf("workload: %w", f.err)
		}
		return f.item, true, nil
	case <-d.stop:
		return it, false, nil
	}
}

// stopped reports whether the stop channel is closed.
func (d *dispatcher) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// acquire takes a concurrency slot, or returns false if the phase stops
// while waiting for one.
func (d *dispatcher) acquire() bool {
	if d.sem == nil {
		return true
	}
	select {
	case d.sem <- struct{}{}:
		return true
	default:
	}
	d.capWaits.Add(1)
	select {
	case d.sem <- struct{}{}:
		return true
	case <-d.stop:
		return false
	}
}

// dispatch sends the requests of one item, due at scheduled. It returns
// the channel closed when they have all finished (closed loop only), and
// false if the phase stopped before all were sent; the unsent ones are
// reported as canceled, never dropped.
func (d *dispatcher) dispatch(it workload.Item, scheduled time.Duration, warmup, closed bool) (<-chan struct{}, bool) {
	q := &queryState{item: it, warmup: warmup, scheduled: scheduled, left: len(it.Requests), firstSent: -1}
	q.pending.Store(int32(len(it.Requests)))
	if closed {
		q.done = make(chan struct{})
	}
	done := q.done
	for j := range q.item.Requests {
		r := getResult()
		r.Query, r.Cycle, r.Request, r.Warmup = it.Query, it.Cycle, j, warmup
		r.Prompts, r.Scheduled, r.q = q.item.Requests[j].Prompts, scheduled, q
		if !d.acquire() {
			for k := j; k < len(q.item.Requests); k++ {
				if k > j {
					r = getResult()
					r.Query, r.Cycle, r.Request, r.Warmup = it.Query, it.Cycle, k, warmup
					r.Prompts, r.Scheduled, r.q = q.item.Requests[k].Prompts, scheduled, q
				}
				r.NotSent, r.End = true, d.now()
				r.fail(KindCanceled, "not sent: the phase stopped while the request waited for a concurrency slot")
				d.finish(r)
			}
			return done, false
		}
		d.inFlight.Add(1)
		d.wg.Add(1)
		req := &q.item.Requests[j]
		d.start(work{req, r, d.post != nil && d.post(d.reqCtx, req, r, d.now)})
	}
	if !warmup {
		d.dispatched.Add(1)
		d.lastDispatch.Store(int64(d.now()))
	}
	return done, true
}

// work is one request handed to a worker.
type work struct {
	req    *workload.Request
	r      *Result
	posted bool // the poster stamped r.Sent and wrote the request
}

// start hands w to an idle worker, or starts a new one. Workers live until
// the phase ends, so their stacks, once grown, are reused; there are never
// more than the peak number of requests in flight.
func (d *dispatcher) start(w work) {
	select {
	case d.work <- w:
	default:
		d.workers.Add(1)
		go d.worker(w)
	}
}

// worker sends requests until the phase ends.
func (d *dispatcher) worker(w work) {
	defer d.workers.Done()
	for {
		d.send(w)
		select {
		case w = <-d.work:
		case <-d.idle:
			return
		}
	}
}

// send runs one request.
func (d *dispatcher) send(w work) {
	r := w.r
	if !w.posted {
		r.Sent = d.now()
	}
	d.do(d.reqCtx, w.req, r, d.now)
	if d.sem != nil {
		<-d.sem
	}
	d.inFlight.Add(-1)
	d.finish(r)
	d.wg.Done()
}

// finish hands a result to the collector.
func (d *dispatcher) finish(r *Result) {
	q := r.q
	if q.pending.Add(-1) == 0 && q.done != nil {
		close(q.done)
	}
	d.results <- r
}

// closedLoop sends up to n items (0: until the duration or the source
// ends) one after another, each when the previous one has finished. It
// returns the end reason ("" when stopped).
func (d *dispatcher) closedLoop(n int, limit time.Duration, warmup bool) (string, error) {
	for i := 0; n == 0 || i < n; i++ {
		if limit > 0 && d.now()-d.origin >= limit {
			return schema.EndDuration, nil
		}
		it, ok, err := d.next()
		if err != nil {
			return schema.EndError, err
		}
		if !ok {
			if d.stopped() {
				return "", nil
			}
			d.sourceShort.Store(n > 0)
			return schema.EndCompleted, nil
		}
		done, ok := d.dispatch(it, d.now(), warmup, true)
		if !ok {
			return "", nil
		}
		select {
		case <-done:
		case <-d.stop:
			return "", nil
		}
	}
	return schema.EndCompleted, nil
}

// openLoop sends each item when the schedule says it is due, whatever
// happened to the previous ones; arrivals the cap holds back leave late.
func (d *dispatcher) openLoop(s *Schedule) (string, error) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	infDuration := d.ph.Arrival == schema.ArrivalInf && d.ph.Duration > 0
	for {
		off, ok := s.Next()
		if !ok {
			if d.ph.Queries > 0 && int(d.dispatched.Load()) >= d.ph.Queries {
				return schema.EndCompleted, nil
			}
			return schema.EndDuration, nil
		}
		d.rateBits.Store(math.Float64bits(s.Rate()))
		if infDuration && d.now()-d.origin >= d.ph.Duration {
			return schema.EndDuration, nil
		}
		it, ok, err := d.next()
		if err != nil {
			return schema.EndError, err
		}
		if !ok {
			if d.stopped() {
				return "", nil
			}
			d.sourceShort.Store(d.ph.Queries > 0)
			return schema.EndCompleted, nil
		}
		due := d.origin + off
		if !d.waitUntil(timer, due) {
			return "", nil
		}
		if _, ok := d.dispatch(it, due, false, false); !ok {
			return "", nil
		}
	}
}
