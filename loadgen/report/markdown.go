package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes summary.md: a title with the SIMULATED banner when
// simulated, the sweep's metadata, then the numbered sections: the offline
// benchmark's ranking table (with the capacity at the SLO), the capacity
// at the SLO per config (when a search ran), the online table per config ×
// phase, startup, server-side metrics, the recommendation with its
// reasons, warnings and notes, and the SIMULATED banner again.
func (s *Summary) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	title := "loadgen sweep report: " + s.Profile
	if s.Simulated {
		title = "SIMULATED " + title
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if s.Simulated {
		fmt.Fprintf(&b, "> **%s**\n\n", s.Banner)
	}
	fmt.Fprintf(&b, "%s\n\n", s.metaLine())
	for _, t := range s.tables() {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", t.title, t.intro)
		writeMarkdownTable(&b, t)
		b.WriteByte('\n')
	}
	s.writeRecommendation(&b)
	if s.Simulated {
		_, n := s.sectionNumbers()
		fmt.Fprintf(&b, "## %d. SIMULATED\n\n> **%s**\n", n, s.Banner)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// metaLine describes the sweep in one line.
func (s *Summary) metaLine() string {
	parts := []string{"Status: " + orUnknown(s.Status), "started " + fmtTime(s.StartedAt)}
	if !s.EndedAt.IsZero() {
		parts = append(parts, "ended "+fmtTime(s.EndedAt))
	}
	if s.LoadgenVersion != "" {
		parts = append(parts, "loadgen "+s.LoadgenVersion)
	}
	if h := s.Host; h.Hostname != "" || h.OS != "" {
		parts = append(parts, fmt.Sprintf("host %s (%s/%s, %d CPUs)", orUnknown(h.Hostname), h.OS, h.Arch, h.CPUs))
	}
	if s.ProfileHash != "" {
		parts = append(parts, "profile hash `"+s.ProfileHash+"`")
	}
	counts := map[string]int{}
	var order []string
	for _, r := range s.Startup {
		st := orUnknown(r.Status)
		if counts[st] == 0 {
			order = append(order, st)
		}
		counts[st]++
	}
	var cs []string
	for _, st := range order {
		cs = append(cs, fmt.Sprintf("%d %s", counts[st], st))
	}
	parts = append(parts, fmt.Sprintf("%d configs (%s)", len(s.Startup), strings.Join(cs, ", ")))
	return strings.Join(parts, " · ")
}

func (s *Summary) writeRecommendation(b *strings.Builder) {
	r := s.Recommendation
	n, _ := s.sectionNumbers()
	fmt.Fprintf(b, "## %d. Recommendation\n\n", n)
	if r.Config != "" {
		fmt.Fprintf(b, "**%s**", r.Config)
		if len(r.Settings) > 0 {
			fmt.Fprintf(b, " — settings `%s`", r.Settings)
		}
		b.WriteString("\n\n")
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(b, "- %s\n", reason)
	}
	b.WriteByte('\n')
	for _, l := range []struct {
		title string
		items []string
	}{{"Warnings", s.Warnings}, {"Notes", s.Notes}} {
		if len(l.items) > 0 {
			fmt.Fprintf(b, "%s:\n\n", l.title)
			for _, w := range l.items {
				fmt.Fprintf(b, "- %s\n", w)
			}
			b.WriteByte('\n')
		}
	}
}

// writeMarkdownTable writes a GitHub-flavoured Markdown table.
func writeMarkdownTable(b *strings.Builder, t table) {
	b.WriteString("|")
	for _, h := range t.header {
		fmt.Fprintf(b, " %s |", mdCell(h))
	}
	b.WriteString("\n|")
	for _, r := range t.right {
		if r {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteByte('\n')
	for _, row := range t.rows {
		b.WriteString("|")
		for _, c := range row {
			fmt.Fprintf(b, " %s |", mdCell(c))
		}
		b.WriteByte('\n')
	}
}

// mdCell keeps a cell on one line and its pipes literal.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// WriteRanking writes the short form of the summary for a terminal: the
// title (with SIMULATED), the ranking table and the recommended config.
func (s *Summary) WriteRanking(w io.Writer) error {
	var b strings.Builder
	title := "loadgen sweep: " + s.Profile
	if s.Simulated {
		title = "SIMULATED " + title + " — " + s.Banner
	}
	fmt.Fprintf(&b, "%s\n\n", title)
	writeMarkdownTable(&b, s.rankingTable())
	if r := s.Recommendation; r.Config != "" {
		fmt.Fprintf(&b, "\nRecommended: %s", r.Config)
		if len(r.Reasons) > 0 {
			fmt.Fprintf(&b, " — %s", r.Reasons[0])
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
