package server

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"loadgen/loadgen/schema"
)

// Bounds of what the log watch keeps in memory.
const (
	ringLines    = 64       // last lines kept for error messages
	maxRingLine  = 1000     // a kept line is clipped to this many bytes
	maxLineBytes = 64 << 10 // a longer line is matched on its first 64 KiB
	maxFindings  = 32       // notable lines kept (duplicates are dropped)
	lineEnds     = "\n\r"   // tqdm progress bars end lines with \r
)

// logWatch reads a server's combined output line by line. It keeps the
// last lines, the startup phase, the compiled-artifacts cache outcome and
// the notable lines (logrules.go). It is an io.Writer; all methods are safe
// for concurrent use.
type logWatch struct {
	now func() time.Time
	ctx logContext

	mu        sync.Mutex
	partial   []byte
	skipping  bool // dropping the rest of an over-long line
	ring      [ringLines]string
	ringNext  int
	ringLen   int
	phases    []schema.StartupPhase
	artifacts string
	findings  []schema.LogFinding
	// changed gets a value (without blocking) when the phase changes or a
	// fatal line appears, so that waiters react at once.
	changed chan struct{}
}

// newLogWatch returns a watch whose first phase, PhaseLoading, began at
// start; ctx tells the classifier which stack it watches and what the
// profile wrote.
func newLogWatch(start time.Time, now func() time.Time, ctx logContext) *logWatch {
	return &logWatch{
		now:     now,
		ctx:     ctx,
		phases:  []schema.StartupPhase{{Name: PhaseLoading, Started: start}},
		changed: make(chan struct{}, 1),
	}
}

// Write splits p into lines and watches each complete one.
func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexAny(p, lineEnds)
		if i < 0 {
			w.appendPartial(p)
			break
		}
		w.appendPartial(p[:i])
		if !w.skipping {
			w.lineLocked(string(w.partial))
		}
		w.partial, w.skipping = w.partial[:0], false
		p = p[i+1:]
	}
	return n, nil
}

// appendPartial adds to the unfinished line; an over-long line is watched
// on its first maxLineBytes and the rest of it is dropped.
func (w *logWatch) appendPartial(p []byte) {
	if w.skipping {
		return
	}
	if room := maxLineBytes - len(w.partial); len(p) > room {
		w.partial = append(w.partial, p[:room]...)
		w.lineLocked(string(w.partial))
		w.partial, w.skipping = w.partial[:0], true
		return
	}
	w.partial = append(w.partial, p...)
}

// flush watches an unterminated last line (at end of output).
func (w *logWatch) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 && !w.skipping {
		w.lineLocked(string(w.partial))
	}
	w.partial, w.skipping = nil, false
}

// lineLocked watches one line; w.mu is held.
func (w *logWatch) lineLocked(line string) {
	line = strings.TrimRight(line, " \t")
	if strings.TrimSpace(line) == "" {
		return
	}
	w.ring[w.ringNext] = clip(line, maxRingLine)
	w.ringNext = (w.ringNext + 1) % ringLines
	w.ringLen = min(w.ringLen+1, ringLines)

	for _, r := range artifactRules {
		if containsAny(line, r.markers) {
			w.artifacts = r.outcome
			break
		}
	}
	for _, r := range phaseRules {
		if containsAny(line, r.markers) {
			w.advanceLocked(r.phase, w.now())
			break
		}
	}
	if f, ok := classify(line, w.ctx); ok && len(w.findings) < maxFindings && !w.seenLocked(f) {
		w.findings = append(w.findings, f)
		if f.Fatal {
			w.notify()
		}
	}
}

// seenLocked reports whether an equal finding is already recorded.
func (w *logWatch) seenLocked(f schema.LogFinding) bool {
	for _, g := range w.findings {
		if g.Class == f.Class && g.Message == f.Message {
			return true
		}
	}
	return false
}

// advanceLocked moves to phase at t unless the watch is already there or
// past it.
func (w *logWatch) advanceLocked(phase string, t time.Time) {
	cur := w.phases[len(w.phases)-1].Name
	if phaseOrder[phase] <= phaseOrder[cur] {
		return
	}
	w.phases = append(w.phases, schema.StartupPhase{Name: phase, Started: t})
	w.notify()
}

// notify wakes a waiter without blocking.
func (w *logWatch) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// markReady records that the server became ready at t (the readiness
// probe succeeded), if the log has not said so already.
func (w *logWatch) markReady(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advanceLocked(PhaseReady, t)
}

// phase returns the current phase and when it began.
func (w *logWatch) phase() (string, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.phases[len(w.phases)-1]
	return p.Name, p.Started
}

// lastLines returns up to n of the last lines, oldest first.
func (w *logWatch) lastLines(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	n = min(n, w.ringLen)
	out := make([]string, 0, n)
	for i := w.ringLen - n; i < w.ringLen; i++ {
		out = append(out, w.ring[(w.ringNext-w.ringLen+i+ringLines)%ringLines])
	}
	return out
}

// lastLine returns the last line, or "".
func (w *logWatch) lastLine() string {
	if l := w.lastLines(1); len(l) == 1 {
		return l[0]
	}
	return ""
}

// cause returns the root cause among the fatal findings: the first
// specific one, else the first generic one.
func (w *logWatch) cause() (schema.LogFinding, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var generic *schema.LogFinding
	for i, f := range w.findings {
		switch {
		case !f.Fatal:
		case !isGeneric(f.Class):
			return f, true
		case generic == nil:
			generic = &w.findings[i]
		}
	}
	if generic != nil {
		return *generic, true
	}
	return schema.LogFinding{}, false
}

// warning returns the first finding that voids the run (a non-fatal
// invalid_config), if any; notes and other warnings do not.
func (w *logWatch) warning() (schema.LogFinding, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.findings {
		if !f.Fatal && f.Class == schema.FailureInvalidConfig {
			return f, true
		}
	}
	return schema.LogFinding{}, false
}

// snapshot returns the phases (with durations; the last one lasts until
// end, or 0 for ready or a zero end), the artifacts outcome and the findings.
func (w *logWatch) snapshot(end time.Time) ([]schema.StartupPhase, string, []schema.LogFinding) {
	w.mu.Lock()
	defer w.mu.Unlock()
	phases := make([]schema.StartupPhase, len(w.phases))
	copy(phases, w.phases)
	for i := range phases {
		var until time.Time
		switch {
		case i+1 < len(phases):
			until = phases[i+1].Started
		case phases[i].Name != PhaseReady:
			until = end
		}
		if !until.IsZero() && until.After(phases[i].Started) {
			phases[i].Seconds = roundSeconds(until.Sub(phases[i].Started))
		}
	}
	findings := make([]schema.LogFinding, len(w.findings))
	copy(findings, w.findings)
	return phases, w.artifacts, findings
}

// roundSeconds converts d to seconds rounded to milliseconds.
func roundSeconds(d time.Duration) float64 {
	return d.Round(time.Millisecond).Seconds()
}
