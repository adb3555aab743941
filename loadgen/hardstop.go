package loadgen

import (
	"fmt"
	"sync"
	"time"

	"loadgen/loadgen/schema"
)

// HardStop lets the process record, when it must exit at once (the second
// Ctrl-C), what a sweep in progress would have recorded on its way out:
// manifest.json marked interrupted, with the running and pending
// configurations and phases, so that the record on disk never says
// "running" for a sweep that is gone. main calls Now after it has killed
// the server process groups; a sweep (Options.HardStop) is registered for
// its life. Writing the manifest costs a few milliseconds.
type HardStop struct {
	mu    sync.Mutex
	next  int
	marks map[int]func() string
}

// HardStopWait bounds how long Now waits for one sweep's record (a write
// stuck on a dead file system must not keep loadgen from exiting).
const HardStopWait = 5 * time.Second

// add registers fn, which records the hard stop and says in one line what
// it did; the returned func unregisters it.
func (h *HardStop) add(fn func() string) (remove func()) {
	if h == nil {
		return func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.marks == nil {
		h.marks = map[int]func() string{}
	}
	id := h.next
	h.next++
	h.marks[id] = fn
	return func() {
		h.mu.Lock()
		delete(h.marks, id)
		h.mu.Unlock()
	}
}

// Now records the hard stop of every registered sweep and returns what
// each one did, to print before exiting. It waits at most HardStopWait for
// each.
func (h *HardStop) Now() []string {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	fns := make([]func() string, 0, len(h.marks))
	for _, fn := range h.marks {
		fns = append(fns, fn)
	}
	h.mu.Unlock()
	var out []string
	for _, fn := range fns {
		done := make(chan string, 1)
		go func() { done <- fn() }()
		select {
		case line := <-done:
			out = append(out, line)
		case <-time.After(HardStopWait):
			out = append(out, fmt.Sprintf("the results were not marked interrupted within %s", HardStopWait))
		}
	}
	return out
}

// hardStopReason is what the manifest says of what a hard stop cut short.
const hardStopReason = "killed by a second interrupt: no partial result of a running phase was written"

// hardStop marks the manifest interrupted for good: every configuration
// and phase that had not finished is interrupted, and no later update of
// this process rewrites it. It returns the line to print.
func (s *manifestState) hardStop(now time.Time, dir string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.m.Configs {
		c := &s.m.Configs[i]
		if c.Status == schema.StatusPending || c.Status == schema.StatusRunning {
			c.Status, c.Reason = schema.StatusInterrupted, hardStopReason
		}
		for j := range c.Phases {
			if ph := &c.Phases[j]; ph.Status == schema.StatusPending || ph.Status == schema.StatusRunning {
				ph.Status, ph.Reason = schema.StatusInterrupted, hardStopReason
			}
		}
	}
	s.m.Status, s.m.EndedAt = schema.SweepInterrupted, now
	err := s.saveLocked()
	s.frozen = true
	if err != nil {
		return fmt.Sprintf("marking %s interrupted failed: %v", dir, err)
	}
	return fmt.Sprintf("results: %s (marked interrupted; render the report with: loadgen report %s; continue it with: loadgen sweep --resume %s)", dir, dir, dir)
}
