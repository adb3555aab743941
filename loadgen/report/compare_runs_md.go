package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"loadgen/loadgen/schema"
)

// WriteMarkdown writes the comparison: warnings first (loudly when a
// simulated run is compared with a real one), the flagged changes, every
// delta, and a note on noise.
func (c *RunComparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Run comparison\n\nA: `%s`%s  \nB: `%s`%s\n\n", c.A, simNote(c.SimulatedA), c.B, simNote(c.SimulatedB))
	if c.Mixed {
		fmt.Fprintf(&b, "> **WARNING: %s**\n\n", c.Warnings[0])
	}
	if len(c.Warnings) > 0 {
		b.WriteString("Warnings:\n\n")
		for _, wn := range c.Warnings {
			fmt.Fprintf(&b, "- %s\n", wn)
		}
		b.WriteByte('\n')
	}
	th := c.Thresholds
	fmt.Fprintf(&b, "## Flagged changes (%d, of which %d regressions)\n\n", c.Flagged, c.Regressions)
	fmt.Fprintf(&b, "Flagged: latencies that moved more than %g%% and at least %g ms, throughput and goodput more than %g%%, "+
		"and any change in failed requests.\n\n", th.LatencyPct, th.LatencyAbsMs, th.ThroughputPct)
	var flagged []RunDelta
	for _, d := range c.Deltas {
		if d.Flag != "" {
			flagged = append(flagged, d)
		}
	}
	if len(flagged) == 0 {
		b.WriteString("None: every metric is within the noise thresholds.\n\n")
	} else {
		writeMarkdownTable(&b, deltaTable(flagged))
		b.WriteByte('\n')
	}
	b.WriteString("## All metrics\n\nLatencies in ms, rates in queries/s; Δ = B − A.\n\n")
	writeMarkdownTable(&b, deltaTable(c.Deltas))
	b.WriteString("\n## Noise\n\n")
	b.WriteString("Run-to-run noise is real: the same config on the same host moves by a few percent between runs " +
		"(scheduling, clocks, caches, the seeded arrival schedule aside). HDR histograms keep 3 significant digits, " +
		"so any value is within 0.1% and two runs cannot be told apart below 0.2%. Tail percentiles of short phases " +
		"are the noisiest: a p99 over fewer than 100 samples is essentially the maximum (marked \"few samples\"). " +
		"Re-run both sides before acting on a flag near the threshold.\n")
	if c.Mixed {
		fmt.Fprintf(&b, "\n> **WARNING: %s**\n", c.Warnings[0])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func simNote(sim bool) string {
	if sim {
		return " (SIMULATED)"
	}
	return ""
}

func deltaTable(ds []RunDelta) table {
	t := table{}
	t.cols("config", "phase", "metric", ">A", ">B", ">Δ", ">Δ %", "flag")
	for _, d := range ds {
		p := dash
		if d.Pct != nil {
			p = pct(*d.Pct)
		}
		flag := d.Flag
		if d.FewSamples {
			flag = strings.TrimSpace(flag + " (few samples)")
		}
		t.rows = append(t.rows, []string{d.Config, d.Phase, d.Metric, fmtNum(d.A), fmtNum(d.B),
			signed(d.Abs), p, flag})
	}
	return t
}

// fmtNum prints a value with 4 significant decimals at most.
func fmtNum(v float64) string { return strconv.FormatFloat(round(v, 4), 'f', -1, 64) }

func signed(v float64) string {
	s := fmtNum(v)
	if v > 0 {
		return "+" + s
	}
	return s
}

// WriteJSON writes the comparison as indented JSON.
func (c *RunComparison) WriteJSON(w io.Writer) error {
	b, err := schema.Encode(c)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
