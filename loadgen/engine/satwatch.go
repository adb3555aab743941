package engine

import (
	"context"
	"errors"
	"time"

	"loadgen/loadgen/schema"
)

// errSaturated is the cause with which a saturated phase's in-flight
// requests are aborted.
var errSaturated = errors.New("saturated: the phase was stopped as past capacity")

// satWatch is the collector's side of a SaturationStop: it counts the
// arrivals due from replicas of the phase's schedule (a pure function of
// the phase, so the collector needs nothing from the dispatcher but its
// dispatched count), feeds the detector and closes stop when it fires.
type satWatch struct {
	det  *satDetector
	due  cursor // arrivals due by now
	old  cursor // arrivals due by now − the latency threshold
	lat  time.Duration
	stop chan struct{}

	fired                *schema.Saturation
	queriesCut, requests int
}

// newSatWatch returns the watch of a phase with a SaturationStop, or nil:
// only schedules with a rate (poisson, gamma, constant) can be past
// capacity; a sync or inf phase is a closed loop or saturated by design.
// Its work grows with the phase (one normalisation, and for a phase
// bounded by its duration a count of the planned arrivals), so it watches
// ctx and returns nil once ctx is done: the phase then ends at once,
// interrupted, and needs no watch.
func newSatWatch(ctx context.Context, ph Phase) *satWatch {
	if ph.Saturation == nil || !ph.open() || ph.Arrival == schema.ArrivalInf {
		return nil
	}
	sched, err := NewSchedule(ctx, ph)
	if err != nil {
		return nil
	}
	planned := ph.Queries
	if planned == 0 {
		for s := sched.Replica(); ; planned++ {
			if planned%normaliseCheck == 0 && ctx.Err() != nil {
				return nil
			}
			if _, ok := s.Next(); !ok {
				break
			}
		}
	}
	w := &satWatch{det: newSatDetector(*ph.Saturation, planned), lat: ph.Saturation.Latency, stop: make(chan struct{})}
	w.due.s, w.old.s = sched, sched.Replica()
	w.due.pull()
	w.old.pull()
	return w
}

// counts reads the counts at offset at (since the measured origin).
func (w *satWatch) counts(at time.Duration, dispatched, finished int) satTick {
	t := satTick{At: at, Due: w.due.upTo(at), Dispatched: dispatched, Finished: finished}
	if w.lat > 0 {
		t.Old = w.old.upTo(at - w.lat)
	}
	return t
}

// observe applies the detector to the counts at offset at: the exact rule
// only, or both rules at the end of an interval. It reports whether the
// phase is to stop (it closes stop once).
func (w *satWatch) observe(t satTick, interval bool) bool {
	if w.fired != nil {
		return true
	}
	var ev *schema.Saturation
	if interval {
		ev = w.det.tick(t)
	} else {
		ev = w.det.check(t)
	}
	if ev == nil {
		return false
	}
	w.fired = ev
	close(w.stop)
	return true
}

// cursor counts a schedule's arrivals up to an offset.
type cursor struct {
	s    *Schedule
	next time.Duration
	more bool
	n    int
}

func (c *cursor) pull() { c.next, c.more = c.s.Next() }

// upTo returns the number of arrivals due at or before off (off only
// grows between calls).
func (c *cursor) upTo(off time.Duration) int {
	for c.more && c.next <= off {
		c.n++
		c.pull()
	}
	return c.n
}

// watchSaturation feeds the detector the counts at now: both rules at the
// end of an interval, the exact one after a query finished.
func (c *collector) watchSaturation(now time.Duration, interval bool) {
	if c.sat == nil || !c.started {
		return
	}
	t := c.sat.counts(now-c.origin, int(c.d.dispatched.Load()), c.queriesOK+c.queriesBad)
	c.sat.observe(t, interval)
}

// cut takes a measured request that the saturation stop aborted, or never
// sent: it is counted as cut, not as a failure (the server did not fail
// it), and its query is cut with it. It reports whether r was one.
func (c *collector) cut(r *Result) bool {
	if c.sat == nil || c.sat.fired == nil || r.Kind != KindCanceled {
		return false
	}
	c.sat.requests++
	q := r.q
	q.cut = true
	q.end = max(q.end, r.End)
	q.left--
	if q.left == 0 {
		c.finishQuery(q)
	}
	return true
}
