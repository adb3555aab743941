package profiles

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"loadgen/server"
)

// Checked is a plan that passed Preflight, with the dataset pre-flight
// read. Only Preflight makes one, and a sweep runs nothing else.
type Checked struct {
	plan *Plan
	data *Dataset // nil for a synthetic workload
}

// Plan returns the plan that was checked.
func (c *Checked) Plan() *Plan { return c.plan }

// Dataset returns the dataset pre-flight read, to build the prompts from
// (nil for a synthetic workload, which has none).
func (c *Checked) Dataset() *Dataset { return c.data }

// Preflight checks, before anything starts, everything that can be known
// before a server runs, and reports every problem at once:
//
//   - every phase by the rules that resolved it (ResolvePhase), so that a
//     phase set in code or by `loadgen run` flags is held to the profile's
//     rules too;
//   - every configuration's server command on PATH;
//   - the dataset's every row (a bad row is an error naming file:line),
//     read in one pass, and every phase against it: a sync phase that
//     makes one pass over the dataset needs it to fit the prompt cache.
//
// Configuration checks ran when the plan was expanded. The checked plan
// holds the dataset it read, so the sweep does not read it again.
func (pl *Plan) Preflight() (*Checked, error) {
	p := pl.Profile
	base := p.prob
	if base == nil {
		base = newProblems(p.Path)
	}
	// Fresh lists, shared positions: errors name the profile's lines.
	pr := &problems{file: base.file, lines: base.lines, bad: base.bad}
	p.checkPhases(pr)
	cmdErr := pl.checkCommands()
	c := &Checked{plan: pl}
	var dataErr error
	if !p.Workload.IsSynthetic() {
		c.data, dataErr = readDataset(p.Workload)
		if c.data != nil {
			p.checkOnePass(pr, c.data)
		}
	}
	if err := errors.Join(pr.err(), cmdErr, dataErr); err != nil {
		return nil, err
	}
	return c, nil
}

// checkPhases resolves every phase again from the values it holds and
// reports what the rules refuse. A loaded profile's phases pass (Load
// resolved them); the profile itself is not changed.
func (p *Profile) checkPhases(pr *problems) {
	q := *p
	q.Load = slices.Clone(p.Load)
	q.resolvePhases(pr, func(i int) PhaseSpec { return writtenOf(p.Load[i]) })
}

// checkOnePass refuses a phase that makes one pass over a dataset larger
// than the prompt cache: its queries would be streamed, and it would send
// every one of them.
func (p *Profile) checkOnePass(pr *problems, data *Dataset) {
	for i, ph := range p.Load {
		if ph.OnePass() && data.Queries() > maxKeptQueries {
			pr.errorf(indexPath("load", i), "phase %s makes one pass over a dataset of %d queries, more than the %d loadgen caches: set queries or duration",
				ph.Name, data.Queries(), maxKeptQueries)
		}
	}
}

// checkCommands finds every configuration's server command: without
// `vllm` on PATH no configuration can run. Configurations that share a
// command share the message.
func (pl *Plan) checkCommands() error {
	var msgs []string
	for _, c := range pl.Configs {
		if err := server.CheckCommand(c.Server); err != nil {
			msg := err.Error()
			var se *server.Error
			if errors.As(err, &se) && se.Reason != "" {
				msg = se.Reason
			}
			if !slices.Contains(msgs, msg) {
				msgs = append(msgs, msg)
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// Summary says in one line what pre-flight checked, for dry runs.
func (c *Checked) Summary() string {
	p := c.plan.Profile
	parts := []string{fmt.Sprintf("%d phase(s) follow the rules", len(p.Load))}
	switch {
	case p.Server.URL != "":
		parts = append(parts, "remote server: nothing to launch")
	case len(c.plan.Configs) > 0 && len(c.plan.Configs[0].Server.Argv) > 0:
		parts = append(parts, fmt.Sprintf("server command %s found", c.plan.Configs[0].Server.Argv[0]))
	}
	switch {
	case c.data == nil:
		parts = append(parts, "synthetic workload: no dataset")
	case c.data.Kept():
		parts = append(parts, fmt.Sprintf("dataset: %d queries, every row read once and kept for every config", c.data.Queries()))
	default:
		parts = append(parts, fmt.Sprintf("dataset: %d queries, every row read; too large to keep, streamed during the phases", c.data.Queries()))
	}
	return strings.Join(parts, "; ")
}
