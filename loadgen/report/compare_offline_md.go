package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteMarkdown writes the comparison: how configs were matched, offline
// vs online sync (overhead), offline throughput vs online capacity (at rate
// inf, and at the SLO when the sweep searched for it), and the ranking
// agreement with Kendall's τ_b.
func (c *OfflineComparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	title := "Offline vs online: " + c.Profile
	if c.Simulated {
		title = "SIMULATED " + title
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if c.Simulated {
		fmt.Fprintf(&b, "> **%s**\n\n", c.Banner)
	}
	fmt.Fprintf(&b, "Online results: `%s`. Offline results: %d files.\n\n", c.Dir, len(c.Matches))
	c.writeMatching(&b)
	c.writeOverhead(&b)
	c.writeCapacity(&b)
	c.writeRanking(&b)
	if len(c.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (c *OfflineComparison) writeMatching(b *strings.Builder) {
	b.WriteString("## Matching\n\n")
	b.WriteString("An offline result joins the online config of the same name (ignoring case); otherwise the one " +
		"online config with the same `enable_prefix_caching` and `enable_bucketing` (narrowed by the other shared " +
		"settings when several have them).\n\n")
	t := table{}
	t.cols("offline config", "online config", "matched by", "online status", "note")
	for _, m := range c.Matches {
		note := m.Note
		if len(m.Differences) > 0 {
			note = strings.TrimPrefix(note+"; settings differ: "+strings.Join(m.Differences, ", "), "; ")
		}
		t.rows = append(t.rows, []string{m.Offline, orDash(m.Online), orDash(m.By), orDash(m.OnlineStatus), orDash(note)})
	}
	writeMarkdownTable(b, t)
	if len(c.UnmatchedOnline) > 0 {
		fmt.Fprintf(b, "\nOnline configs without an offline result: %s.\n", strings.Join(c.UnmatchedOnline, ", "))
	}
	b.WriteByte('\n')
}

func (c *OfflineComparison) writeOverhead(b *strings.Builder) {
	b.WriteString("## Sync: offline vs online\n\n")
	b.WriteString("The online sync phase sends one query at a time, as the offline benchmark did; the difference is " +
		"the HTTP and serving overhead (for latencies, positive = slower online; for queries/s, negative = slower online).\n\n")
	t := table{}
	t.cols("config", "stat", ">offline", ">online sync", ">online − offline", ">Δ %")
	for _, r := range c.Rows {
		if r.Sync == nil {
			why := "(no online sync phase)"
			if r.SyncNote != "" {
				why = "(" + r.SyncNote + ")"
			}
			t.rows = append(t.rows, []string{r.Offline, why, dash, dash, dash, dash})
			continue
		}
		for _, d := range r.Overhead {
			t.rows = append(t.rows, []string{r.Offline, d.Stat, strconv.FormatFloat(d.Offline, 'f', 4, 64),
				strconv.FormatFloat(d.Online, 'f', 4, 64), fmt.Sprintf("%+.4f", d.Abs), pct(d.Pct)})
		}
	}
	writeMarkdownTable(b, t)
	b.WriteByte('\n')
}

func (c *OfflineComparison) writeCapacity(b *strings.Builder) {
	b.WriteString("## Capacity: offline throughput vs online at rate inf\n\n")
	b.WriteString("Offline queries/s is one query at a time; online capacity is the query throughput with every " +
		"arrival due at once, bounded by max_concurrency.\n\n")
	t := table{}
	t.cols("config", ">offline queries/s", "online phase", ">max_concurrency", ">online capacity (queries/s)", ">online / offline")
	for _, r := range c.Rows {
		mc := dash
		if r.MaxConcurrency != nil {
			mc = strconv.Itoa(*r.MaxConcurrency)
		}
		ratio := dash
		if r.CapacityRatio != nil {
			ratio = strconv.FormatFloat(*r.CapacityRatio, 'f', 2, 64) + "×"
		}
		phase := orDash(r.CapacityPhase)
		if r.CapacityNote != "" {
			phase = "(" + r.CapacityNote + ")"
		}
		t.rows = append(t.rows, []string{r.Offline, strconv.FormatFloat(r.OffStat.QueriesPerSec, 'f', 4, 64),
			phase, mc, fmtF(r.Capacity, 4), ratio})
	}
	writeMarkdownTable(b, t)
	b.WriteByte('\n')
	c.writeAtSLO(b)
}

// writeAtSLO compares the offline throughput with the online capacity at
// the SLO, when the sweep searched for it.
func (c *OfflineComparison) writeAtSLO(b *strings.Builder) {
	searched := false
	for _, r := range c.Rows {
		searched = searched || r.SLOPhase != "" || r.AtSLONote != ""
	}
	if !searched {
		return
	}
	b.WriteString("## Capacity at the SLO: offline throughput vs the online answer\n\n")
	b.WriteString("Offline queries/s is one query at a time with nothing queued; the capacity at the SLO is the highest " +
		"Poisson arrival rate at which the SLO still held online, queueing included.\n\n")
	t := table{}
	t.cols("config", ">offline queries/s", "online phase", "SLO", ">capacity at SLO (queries/s)", ">online / offline")
	for _, r := range c.Rows {
		ratio := dash
		if r.AtSLORatio != nil {
			ratio = strconv.FormatFloat(*r.AtSLORatio, 'f', 2, 64) + "×"
		}
		phase := orDash(r.SLOPhase)
		if r.AtSLONote != "" {
			phase = "(" + r.AtSLONote + ")"
		}
		t.rows = append(t.rows, []string{r.Offline, strconv.FormatFloat(r.OffStat.QueriesPerSec, 'f', 4, 64),
			phase, orDash(r.SLO), fmtF(r.CapacityAtSLO, 4), ratio})
	}
	writeMarkdownTable(b, t)
	b.WriteByte('\n')
}

func (c *OfflineComparison) writeRanking(b *strings.Builder) {
	b.WriteString("## Ranking agreement\n\n")
	b.WriteString("Ranks by queries/s among the joined configs that have the number; Kendall's τ_b compares the offline " +
		"order with the online one over the configs that have both (1 = same order, −1 = reversed).\n\n")
	off := make([]*float64, len(c.Rows))
	syn := make([]*float64, len(c.Rows))
	capa := make([]*float64, len(c.Rows))
	slo := make([]*float64, len(c.Rows))
	atSLO := false
	for i, r := range c.Rows {
		off[i] = &c.Rows[i].OffStat.QueriesPerSec
		if r.Sync != nil {
			syn[i] = &c.Rows[i].Sync.QueriesPerSec
		}
		capa[i], slo[i] = r.Capacity, r.CapacityAtSLO
		atSLO = atSLO || r.CapacityAtSLO != nil
	}
	ro, rs, rc, ra := ranks(off), ranks(syn), ranks(capa), ranks(slo)
	t := table{}
	t.cols("config", ">offline rank", ">online sync rank", ">online capacity rank")
	if atSLO {
		t.cols(">capacity at SLO rank")
	}
	for i, r := range c.Rows {
		row := []string{r.Offline, rankCell(ro[i]), rankCell(rs[i]), rankCell(rc[i])}
		if atSLO {
			row = append(row, rankCell(ra[i]))
		}
		t.rows = append(t.rows, row)
	}
	writeMarkdownTable(b, t)
	b.WriteByte('\n')
	fmt.Fprintf(b, "- Offline vs online sync: %s\n", agreementLine(c.Sync))
	fmt.Fprintf(b, "- Offline vs online capacity: %s\n", agreementLine(c.Capacity))
	if atSLO {
		fmt.Fprintf(b, "- Offline vs online capacity at the SLO (the online answer): %s\n", agreementLine(c.AtSLO))
	}
	b.WriteByte('\n')
}

func rankCell(r int) string {
	if r == 0 {
		return dash
	}
	return strconv.Itoa(r)
}

func agreementLine(a RankAgreement) string {
	if a.Tau == nil {
		return a.Note + "."
	}
	return fmt.Sprintf("Kendall's τ_b = %.3f over %d configs: %s.", *a.Tau, a.N, a.Note)
}
