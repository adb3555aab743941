package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// Causes with which in-flight requests are aborted.
var (
	errDrained    = errors.New("interrupted: drain period over")
	errServerGone = errors.New("server exited")
)

// Run runs one load phase against o.BaseURL with the queries of src and
// returns its result. It sends Warmup queries first (closed loop, excluded
// from every statistic), then the measured queries on the phase's arrival
// process, waits for the last request and summarises.
//
// When ctx is canceled it stops sending, lets in-flight requests run for
// o.Drain, aborts the rest and returns the partial result with EndReason
// "interrupted"; when o.ServerExited closes it aborts at once
// ("server_exited"). A workload error mid-phase ends it with EndReason
// "error" and a warning. Run returns an error, and no result, only when the
// phase or options are invalid or nothing could be started.
//
// A caller builds a workload.Source, fills Options (BaseURL, Model, Scorer
// for reranking, RequestsLog/Hlog files, Progress printer, ServerExited from
// the server process), calls Run and writes the result JSON; the sweep in
// package loadgen is that caller.
func Run(ctx context.Context, ph Phase, src workload.Source, o Options) (*schema.PhaseResult, error) {
	if err := ph.Validate(); err != nil {
		return nil, err
	}
	c, err := newClient(ph, &o)
	if err != nil {
		return nil, err
	}
	defer c.w.closeIdle() // leave no connection behind
	return run(ctx, ph, src, &o, c.do, c.post)
}

// run is Run with the request functions injected (tests use fakes; post may
// be nil).
func run(ctx context.Context, ph Phase, src workload.Source, o *Options, do doer, post poster) (*schema.PhaseResult, error) {
	base := time.Now()
	now := func() time.Duration { return time.Since(base) }

	srcCtx, cancelSrc := context.WithCancel(ctx)
	defer cancelSrc()
	n := 0
	if ph.Queries > 0 && ph.Queries <= math.MaxInt-ph.Warmup {
		n = ph.Warmup + ph.Queries
	}
	items := prefetch(srcCtx, src, n)

	reqCtx, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(context.Canceled)

	d := &dispatcher{
		ph: ph, do: do, post: post, now: now, reqCtx: reqCtx, items: items, afterWarmup: o.AfterWarmup,
		results: make(chan *Result, 1024),
		work:    make(chan work),
		idle:    make(chan struct{}),
	}
	d.pace.spin = !o.timerOnly
	if !o.timerOnly {
		if ft, err := newFineTimer(); err == nil {
			defer ft.close()
			d.fine = ft
		}
	}
	if ph.MaxConcurrency > 0 {
		d.sem = make(chan struct{}, ph.MaxConcurrency)
	}
	col := newCollector(ctx, ph, o, d)

	// stop closes when the phase is interrupted, the server exits or the
	// collector finds the phase saturated; halted is done right after.
	stop := make(chan struct{})
	halted, halt := context.WithCancel(context.Background())
	defer halt()
	d.stop, d.halted = stop, halted
	var saturated <-chan struct{} // nil: never
	if col.sat != nil {
		saturated = col.sat.stop
	}
	quit := make(chan struct{})
	watched := make(chan struct{})
	var reason atomic.Value
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			reason.Store(schema.EndInterrupted)
		case <-o.ServerExited:
			reason.Store(schema.EndServerExited)
		case <-saturated:
			reason.Store(schema.EndSaturated)
		case <-quit:
			return
		}
		close(stop)
		halt()
	}()
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		col.run(d.results)
	}()

	end, err := d.phases(ph)
	if ctx.Err() != nil && (errors.Is(err, ctx.Err()) || d.sourceShort.Load()) {
		// The prefetcher saw the cancellation before the dispatcher did:
		// the source failed with ctx's error or closed early. The phase
		// was interrupted; it neither failed nor ran out of queries.
		end, err = schema.EndInterrupted, nil
		d.sourceShort.Store(false)
	}

	// Wait for the in-flight requests: all of them, or until the drain
	// period after an interruption, or not at all once the server is gone.
	inflight := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(inflight)
	}()
	select {
	case <-inflight:
	case <-stop:
		switch reason.Load() {
		case schema.EndServerExited:
			abort(errServerGone)
		case schema.EndSaturated:
			// Nothing more is learnt from a saturated phase's queue, and
			// the next phase must find the server idle: abort at once (the
			// server drops what a client abandons).
			abort(errSaturated)
		default:
			drain := time.NewTimer(o.Drain)
			select {
			case <-inflight:
			case <-drain.C:
				abort(errDrained)
			case <-o.ServerExited:
				abort(errServerGone)
			}
			drain.Stop()
		}
		<-inflight
		if r, _ := reason.Load().(string); end == "" || context.Cause(reqCtx) != nil {
			end = r
		}
	}
	close(d.idle)
	d.workers.Wait()
	close(quit)
	<-watched
	if end == "" {
		end, _ = reason.Load().(string)
	}
	endWall := time.Now()
	close(d.results)
	<-collected
	cancelSrc()
	for range items { // let the prefetcher exit
	}
	if o.spun != nil {
		*o.spun = d.pace.spun
	}
	res := col.result(end, endWall)
	for _, e := range []error{d.hookErr, err} {
		if e != nil {
			res.Warnings = append(res.Warnings, e.Error())
		}
	}
	return res, nil
}

// phases prepares the schedule, runs the warmup and the measured part, and
// returns the end reason ("" when stopped by interrupt or server exit).
func (d *dispatcher) phases(ph Phase) (string, error) {
	var sched *Schedule
	if ph.Arrival != schema.ArrivalSync {
		// Before the warmup, so that the server does not idle between
		// warmup and measurement while a large phase is normalised.
		var err error
		if sched, err = NewSchedule(d.halted, ph); err != nil {
			return "", nil // halted: stop is closed
		}
	}
	if ph.Warmup > 0 {
		end, err := d.closedLoop(ph.Warmup, 0, true)
		if end != schema.EndCompleted {
			d.begin()
			return end, err
		}
		d.wg.Wait() // every warmup result is queued before the marker
		if d.afterWarmup != nil {
			if err := d.afterWarmup(d.reqCtx); err != nil {
				d.hookErr = fmt.Errorf("after warmup: %w", err)
			}
		}
	}
	d.begin()
	if ph.Arrival == schema.ArrivalSync {
		return d.closedLoop(ph.Queries, ph.Duration, false)
	}
	return d.openLoop(sched)
}

// begin starts the measured part: it sets the origin and queues the
// marker the collector starts measuring at.
func (d *dispatcher) begin() {
	d.origin, d.startWall = d.now(), time.Now()
	d.results <- &Result{}
}
