package loadgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// Shares of capacity: a phase may run at a share of what an earlier inf
// phase of the same configuration measured. The capacity is read from
// that phase's stored result, so a resumed sweep finds it as a fresh one
// does.

// capacityOf is the query throughput the configuration's phase measured
// (queries/s): the phase must have finished ok and measured some.
func (r *configRun) capacityOf(phase string) (float64, error) {
	res, err := r.finishedResult(phase)
	if err != nil {
		return 0, err
	}
	if res.QueryThroughput <= 0 {
		return 0, fmt.Errorf("phase %s measured no capacity (query_throughput %g)", phase, res.QueryThroughput)
	}
	return res.QueryThroughput, nil
}

// finishedResult reads the stored result of one of the configuration's
// phases, which must have finished ok.
func (r *configRun) finishedResult(phase string) (*schema.PhaseResult, error) {
	snap := r.m.snapshot()
	var ps *schema.PhaseStatus
	if cs := snap.Config(r.c.Name); cs != nil {
		ps = cs.Phase(phase)
	}
	switch {
	case ps == nil:
		return nil, fmt.Errorf("phase %s has not run", phase)
	case ps.Status != schema.StatusOK:
		why := ps.Status
		if ps.Reason != "" {
			why += ": " + ps.Reason
		}
		return nil, fmt.Errorf("phase %s did not finish ok (%s)", phase, why)
	}
	return readPhaseResult(filepath.Join(r.sweeper.dir, schema.PhaseFile(r.c.Name, phase)))
}

// readPhaseResult reads a phase result file.
func readPhaseResult(path string) (*schema.PhaseResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read phase result: %w", err)
	}
	var res schema.PhaseResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("read phase result %s: %w", path, err)
	}
	return &res, nil
}

// concrete returns the phase with its shares of capacity turned into
// queries/s for this configuration, and what to record of them in its
// result (nil for a phase without shares).
func (r *configRun) concrete(ph profiles.Phase) (profiles.Phase, func(*schema.PhaseResult), error) {
	if !ph.Rate.Relative() && !ph.Ramp.Relative() {
		return ph, nil, nil
	}
	capacity, err := r.capacityOf(ph.Capacity)
	if err != nil {
		return ph, nil, fmt.Errorf("its rate is a share of the capacity phase %s measures: %w", ph.Capacity, err)
	}
	out, annotate := atCapacity(ph, capacity)
	return out, annotate, nil
}

// atCapacity returns the phase with its shares of capacity turned into
// queries/s, and what to record of them in its result.
func atCapacity(ph profiles.Phase, capacity float64) (profiles.Phase, func(*schema.PhaseResult)) {
	out := ph
	out.Rate = profiles.RateValue{QPS: ph.Rate.Of(capacity)}
	var share *schema.Ramp
	if ph.Ramp != nil {
		rp := *ph.Ramp
		rp.From = profiles.RateValue{QPS: rp.From.Of(capacity)}
		rp.To = profiles.RateValue{QPS: rp.To.Of(capacity)}
		out.Ramp = &rp
		share = &schema.Ramp{Strategy: rp.Strategy, From: ph.Ramp.From.Share, To: ph.Ramp.To.Share}
	}
	basis := &schema.RateBasis{Phase: ph.Capacity, Capacity: capacity}
	return out, func(res *schema.PhaseResult) {
		res.RateShare, res.RampShare, res.RateBasis = ph.Rate.Share, share, basis
	}
}

// rateNote says what a relative rate came to: " (75% of 3.16 = 2.37 q/s)".
func rateNote(res *schema.PhaseResult) string {
	b := res.RateBasis
	switch {
	case b == nil:
		return ""
	case res.RateShare > 0:
		return fmt.Sprintf(" (%s of %.3g = %.3g q/s)", profiles.FormatPercent(res.RateShare), b.Capacity, float64(res.RequestRate))
	case res.RampShare != nil:
		return fmt.Sprintf(" (ramp shares of %.3g q/s)", b.Capacity)
	}
	return ""
}
