package loadgen

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"loadgen/loadgen/engine"
	"loadgen/loadgen/schema"
	"loadgen/server"
)

// eta estimates the time left in a sweep from the wall time of the
// configurations done so far (each includes its server's startup, which
// dominates on a first Neuron compile).
type eta struct {
	mu      sync.Mutex
	began   time.Time
	total   int
	done    int
	current time.Time // when the running config began
}

func (e *eta) start(now time.Time, total int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.began, e.total, e.current = now, total, now
}

func (e *eta) configDone(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.done++
	e.current = now
}

// left returns the estimate ("" while there is nothing to go by).
func (e *eta) left(now time.Time) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done == 0 {
		return ""
	}
	per := e.current.Sub(e.began) / time.Duration(e.done)
	rest := per*time.Duration(e.total-e.done) - now.Sub(e.current)
	if rest < 0 {
		rest = 0
	}
	return "~" + FormatDuration(rest) + " left"
}

func (e *eta) elapsed(now time.Time) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return now.Sub(e.began)
}

// startupProgress shows the server's startup phase while it compiles, so a
// 30-minute compile reads as progress.
func (r *configRun) startupProgress(p server.Progress) {
	phase := p.Phase
	if phase == "" {
		phase = "starting"
	}
	line := fmt.Sprintf("%s: %s %s", r.tag(), phase, FormatDuration(p.Elapsed))
	if p.Probe != "" {
		line += " (/health: " + clip(p.Probe, 40) + ")"
	}
	if p.LastLine != "" {
		line += " | " + clip(p.LastLine, 60)
	}
	r.pr.Status(r.withClock(line))
}

// phaseProgress shows a running phase: queries done, achieved vs target
// rate, running TTFT percentiles and errors.
func (r *configRun) phaseProgress(phase string) func(engine.Progress) {
	return func(p engine.Progress) {
		if p.Warmup {
			r.pr.Status(r.withClock(fmt.Sprintf("%s: %s warming up", r.tag(), phase)))
			return
		}
		done := fmt.Sprint(p.QueriesDone)
		switch {
		case p.QueriesTotal > 0:
			done += fmt.Sprintf("/%d queries", p.QueriesTotal)
		case p.Duration > 0:
			done += fmt.Sprintf(" queries, %s/%s", FormatDuration(p.Elapsed), FormatDuration(p.Duration))
		default:
			done += " queries"
		}
		target := "closed loop"
		switch {
		case p.TargetRate.IsInf():
			target = "target inf"
		case p.TargetRate != 0:
			target = fmt.Sprintf("target %.4g", float64(p.TargetRate))
		}
		line := fmt.Sprintf("%s: %s %s, %.2f q/s (%s), TTFT p50 %s p99 %s, %d in flight, %d errors",
			r.tag(), phase, done, p.AchievedRate, target, fmtMs(p.TTFTP50), fmtMs(p.TTFTP99), p.InFlight, p.Errors)
		r.pr.Status(r.withClock(line))
	}
}

// withClock appends the sweep's elapsed time and estimate of time left.
func (r *configRun) withClock(line string) string {
	now := r.o.Now()
	line += " | " + FormatDuration(r.eta.elapsed(now))
	if left := r.eta.left(now); left != "" {
		line += ", " + left
	}
	return line
}

// phaseLine is the one line printed when a phase is done.
func phaseLine(name string, res *schema.PhaseResult) string {
	q := res.Latency[schema.MetricQueryLatency]
	t := res.Latency[schema.MetricTTFT]
	errs := ""
	if res.Failed > 0 {
		errs = fmt.Sprintf(", %d failed requests", res.Failed)
	}
	line := fmt.Sprintf("%s%s: %d queries, %.3f q/s, query latency p50 %.0f ms p99 %.0f ms, TTFT p50 %.0f ms%s",
		name, rateNote(res), res.QueriesCompleted, res.QueryThroughput, q.P50, q.P99, t.P50, errs)
	if why := saturatedReason(res); why != "" {
		line += "; " + why
	}
	return line
}

// saturatedReason says that a phase was cut as saturated, when it was,
// with the evidence ("" otherwise): the manifest's reason of such a phase.
func saturatedReason(res *schema.PhaseResult) string {
	s := res.Saturation
	if s == nil {
		return ""
	}
	return fmt.Sprintf("SATURATED: cut at %.1f s (%d of %d queries completed, %d cut, %d not sent): %s",
		s.At, res.QueriesCompleted, s.Planned, s.QueriesCut, s.NotSent, s.Evidence)
}

// searchReason is the manifest's reason of a finished search phase.
func searchReason(res *schema.PhaseResult) string {
	rec := res.Search
	if rec == nil {
		return ""
	}
	return fmt.Sprintf("capacity at SLO %.4g q/s in %d trials: %s", rec.CapacityAtSLO, len(rec.Trials), rec.Reason)
}

func fmtMs(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
}

// serverWhat says what is being started.
func serverWhat(c server.Config) string {
	if c.Remote() {
		return "(remote server " + c.URL + ")"
	}
	return "the server on " + c.BaseURL()
}

func cacheNote(artifacts string) string {
	switch artifacts {
	case "hit":
		return " (compiled artifacts reused)"
	case "miss":
		return " (compiled)"
	}
	return ""
}

func classReason(class schema.FailureClass, reason string) string {
	if class == schema.FailureNone {
		return reason
	}
	if strings.HasPrefix(reason, string(class)+":") {
		return reason
	}
	return string(class) + ": " + reason
}

// reasonOf is the one line a user sees for err: a server error's reason
// (its class is shown beside it), or the error's first line.
func reasonOf(err error) string {
	var se *server.Error
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason
	}
	return oneLine(err)
}

// oneLine flattens an error to its first line.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
