package engine

import (
	"runtime"
	"time"
)

// Waiting for an arrival. The dispatcher sleeps until a lead time before
// the arrival is due, then spins on the clock until it is. On a virtual
// machine an idle CPU takes tens of µs to wake up (here: p50 67 µs, p99
// 0.3–0.6 ms with the timerfd below), so a dispatcher that sleeps until the
// due time sends every arrival that late, by a varying amount; spinning
// through the spin lead absorbs the wake-up whenever it is shorter than the
// lead. The spin yields the processor (runtime.Gosched) on every turn, so
// it takes no CPU from the workers, only CPU that would have been idle.
//
// The lead follows the 95th percentile of the observed wake-up lateness (a
// stochastic quantile estimate: up 95% of a step when a wake-up comes later
// than the spin lead, down 5% of a step otherwise), so a host that wakes promptly
// spins little, within [leadMin, leadMax].
const (
	leadInit = 200 * time.Microsecond
	leadMin  = 20 * time.Microsecond
	leadMax  = time.Millisecond
	leadStep = 10 * time.Microsecond
)

// fineWindow is how close to a wake-up the dispatcher also arms its fine
// timer; before that it waits on the runtime timer alone, set to wake a
// little early.
const fineWindow = 2 * time.Millisecond

// pacing is the dispatcher's lead and what spinning cost.
type pacing struct {
	spin bool // off: sleep until the due time (fake clocks, which spinning would never advance)
	lead time.Duration
	spun time.Duration // total time spent spinning
}

// learn updates the spin lead with one wake-up that came late after its target.
func (p *pacing) learn(late time.Duration) {
	if p.lead == 0 {
		p.lead = leadInit
	}
	if late > p.lead {
		p.lead = min(p.lead+leadStep*95/100, leadMax)
	} else {
		p.lead = max(p.lead-leadStep*5/100, leadMin)
	}
}

// waitUntil waits until the absolute offset due, or returns false if the
// phase stops first: it sleeps until the spin lead before due and spins from
// there.
func (d *dispatcher) waitUntil(timer *time.Timer, due time.Duration) bool {
	if !d.pace.spin {
		return d.sleepUntil(timer, due)
	}
	if d.pace.lead == 0 {
		d.pace.lead = leadInit
	}
	wake := due - d.pace.lead
	if d.now() < wake {
		if !d.sleepUntil(timer, wake) {
			return false
		}
		d.pace.learn(d.now() - wake)
	}
	start := d.now()
	for d.now() < due {
		if d.stopped() {
			return false
		}
		runtime.Gosched()
	}
	d.pace.spun += d.now() - start
	return !d.stopped()
}

// sleepUntil sleeps until the absolute offset t, or returns false if the
// phase stops first. It re-reads the clock after every wake-up, so an early
// or stale wake-up only costs another round.
func (d *dispatcher) sleepUntil(timer *time.Timer, t time.Duration) bool {
	var fired chan struct{}
	if d.fine != nil {
		fired = d.fine.fired
	}
	for {
		wait := t - d.now()
		if wait <= 0 {
			return !d.stopped()
		}
		switch {
		case d.fine == nil:
		case wait > fineWindow:
			wait -= fineWindow / 2
		default:
			d.fine.arm(wait)
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-fired:
		case <-d.stop:
			return false
		}
	}
}
