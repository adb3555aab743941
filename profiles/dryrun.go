package profiles

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// DryRun writes what `loadgen sweep --dry-run` prints: the profile, its
// workload and phases, then for every configuration the exact command
// (environment and argv, shell-quoted and copy-pasteable, secrets
// redacted) and its pre-flight warnings. Everything but the commands is a
// "#" comment. It starts nothing.
func (pl *Plan) DryRun(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := pl.Profile
	fmt.Fprintf(bw, "# loadgen sweep --dry-run: nothing is started\n")
	fmt.Fprintf(bw, "# profile %s (%s), hash %.12s\n", p.Name, p.Path, p.Hash())
	if p.Description != "" {
		fmt.Fprintf(bw, "# %s\n", p.Description)
	}
	fmt.Fprintf(bw, "# model %s served as %s, tensor_parallel_size %d\n", p.Model, p.ServedModelName, p.TensorParallelSize)
	fmt.Fprintf(bw, "# workload: %s\n", p.Workload.Describe())
	fmt.Fprintf(bw, "# %d configs × %d phases, each phase run against every config in this order:\n", len(pl.Configs), len(p.Load))
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	for _, ph := range p.Load {
		fmt.Fprintf(tw, "#   %s\t%s\n", ph.Name, ph.Describe())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.Server.URL == "" {
		fmt.Fprintf(bw, "# %s=1 lets the sweep POST /reset_prefix_cache between phases.\n", EnvDevMode)
	}
	fmt.Fprintf(bw, "# %s\n", pl.StackLine())
	for _, wn := range pl.Warnings {
		fmt.Fprintf(bw, "# warning: %s\n", wn)
	}
	for i, c := range pl.Configs {
		fmt.Fprintf(bw, "\n# config %d/%d: %s\n", i+1, len(pl.Configs), c.Name)
		if c.Server.Remote() {
			fmt.Fprintf(bw, "# remote server %s: nothing is launched\n", c.Server.URL)
			bw.WriteString(c.OverrideLines())
		} else {
			bw.WriteString(c.CommandText())
		}
		for _, wn := range c.Warnings {
			fmt.Fprintf(bw, "# warning: %s\n", wn)
		}
	}
	return bw.Flush()
}

// CommandText is what command.txt holds: the exact command
// (server.Config.CommandLine), then OverrideLines.
func (c Config) CommandText() string { return c.Server.CommandLine() + c.OverrideLines() }

// OverrideLines are "# note: …" lines naming the settings the stack's
// plugin replaces, so a reader of the command knows what the server really
// runs with ("" when none).
func (c Config) OverrideLines() string {
	var b strings.Builder
	for _, o := range c.Overrides {
		b.WriteString("# note: " + o + "\n")
	}
	return b.String()
}

// Describe summarises the phase in one line, e.g. "poisson 2 q/s, 16
// queries, seed 3, timeout 5m0s".
func (ph Phase) Describe() string {
	var parts []string
	switch {
	case ph.Arrival == ArrivalSync:
		parts = append(parts, "sync (one query at a time)")
	case ph.Arrival == ArrivalInf:
		parts = append(parts, "inf (all due at once)")
	case ph.Search != nil:
		parts = append(parts, fmt.Sprintf("%s trials, %s", ph.Arrival, ph.Search.describe(ph.Capacity)))
	case ph.Ramp != nil:
		parts = append(parts, fmt.Sprintf("%s ramp %s %s→%s", ph.Arrival, ph.Ramp.Strategy, rateWords(ph.Ramp.From, ph.Capacity), rateWords(ph.Ramp.To, ph.Capacity)))
	default:
		parts = append(parts, fmt.Sprintf("%s %s", ph.Arrival, rateWords(ph.Rate, ph.Capacity)))
	}
	if ph.SaturationStop {
		parts = append(parts, "saturation stop")
	}
	if ph.Arrival == ArrivalGamma {
		parts = append(parts, fmt.Sprintf("burstiness %g", ph.Burstiness))
	}
	if ph.MaxConcurrency > 0 {
		parts = append(parts, fmt.Sprintf("max_concurrency %d", ph.MaxConcurrency))
	}
	if ph.Clients > 1 {
		parts = append(parts, fmt.Sprintf("split across %d clients", ph.Clients))
	}
	switch {
	case ph.Queries > 0:
		parts = append(parts, fmt.Sprintf("%d queries", ph.Queries))
	case ph.Duration > 0:
		parts = append(parts, fmt.Sprintf("for %s", ph.Duration))
	default:
		parts = append(parts, "one pass over the dataset")
	}
	if ph.Warmup > 0 {
		parts = append(parts, fmt.Sprintf("warmup %d", ph.Warmup))
	}
	parts = append(parts, fmt.Sprintf("seed %d", ph.Seed), fmt.Sprintf("timeout %s", ph.RequestTimeout))
	if s := ph.SLO; s != nil {
		var slo []string
		for _, x := range []struct {
			k string
			v Duration
		}{{"ttft", s.TTFT}, {"e2el", s.E2EL}, {"query_latency", s.QueryLatency}} {
			if x.v > 0 {
				slo = append(slo, fmt.Sprintf("%s ≤ %s", x.k, x.v))
			}
		}
		parts = append(parts, "slo "+strings.Join(slo, ", "))
	}
	return strings.Join(parts, ", ")
}

// Describe summarises the workload in one line.
func (w Workload) Describe() string {
	if w.IsSynthetic() {
		s := w.Synthetic
		return fmt.Sprintf("synthetic, input_len %d (±%g%%), output_len %d, logprobs %d",
			s.InputLen, s.InputLenRange*100, s.OutputLen, w.Logprobs)
	}
	reqs := (w.SearchNum + w.BatchSize - 1) / w.BatchSize
	return fmt.Sprintf("%s %s; search_num %d, top_n %d, batch_size %d (%d requests per query), max_length %d, max_tokens %d, logprobs %d",
		w.Format, w.Dataset, w.SearchNum, w.TopN, w.BatchSize, reqs, w.MaxLength, w.MaxTokens, w.Logprobs)
}

// rateWords renders a rate with its unit: "2 q/s", or "75% of inf-c4's
// capacity" for a share of what the phase capacity measures.
func rateWords(r RateValue, capacity string) string {
	if r.Relative() {
		return r.String() + " of " + capacity + "'s capacity"
	}
	return r.String() + " q/s"
}
