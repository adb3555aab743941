package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

// wellFormed parses doc as XML to the end.
func wellFormed(t *testing.T, name, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
	}
}

var svgTitle = regexp.MustCompile(`<title>([^<]*)</title>`)

func TestPlots(t *testing.T) {
	for _, tc := range []struct {
		dir       string
		simulated bool
		files     []string
	}{
		// All four kinds, CDFs from .hlog (sync, stress) and from JSON.
		// A search's trials get no CDF of their own; the search phase does.
		{simDir, true, []string{"throughput.svg", "latency-vs-rate.svg", "cdf-sync.svg", "cdf-poisson-1.svg", "cdf-poisson-2.svg", "cdf-stress.svg",
			"cdf-slo-search.svg", "cdf-poisson-75pct.svg"}},
		// A real, partial sweep: no SIMULATED anywhere.
		{partialDir, false, []string{"throughput.svg", "latency-vs-rate.svg", "cdf-sync.svg", "cdf-stress.svg"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			s := loadFixture(t, tc.dir)
			plots := Plots(s, s.Summary())
			var files []string
			for _, p := range plots {
				files = append(files, p.File)
				wellFormed(t, p.File, p.SVG)
				title := svgTitle.FindStringSubmatch(p.SVG)
				if title == nil || strings.HasPrefix(title[1], "SIMULATED") != tc.simulated ||
					strings.Contains(p.SVG, "SIMULATED") != tc.simulated {
					t.Errorf("%s: title %q, simulated %t", p.File, title, tc.simulated)
				}
				for _, bad := range []string{"<script", "href=", "@import", "url("} {
					if strings.Contains(p.SVG, bad) {
						t.Errorf("%s contains %q", p.File, bad)
					}
				}
			}
			if strings.Join(files, " ") != strings.Join(tc.files, " ") {
				t.Errorf("plots %v, want %v", files, tc.files)
			}
		})
	}
}

func TestPlotLabels(t *testing.T) {
	s := loadFixture(t, simDir)
	plots := Plots(s, s.Summary())
	byFile := map[string]string{}
	for _, p := range plots {
		byFile[p.File] = p.SVG
	}
	mustContain(t, "throughput.svg", byFile["throughput.svg"], "query throughput (queries/s)",
		"sync (offline equivalent)", "rate inf (capacity)", "prefix-off_bucketing-on", ">2.83<")
	mustContain(t, "latency-vs-rate.svg", byFile["latency-vs-rate.svg"], "achieved arrival rate (queries/s)",
		"TTFT (ms)", "query latency (ms)", "p99", "sync phase", "rate inf phase")
	mustContain(t, "cdf-sync.svg", byFile["cdf-sync.svg"], "percentile (log scale of 1/(1−q))", ">90%<", ">99%<")
	if strings.Contains(byFile["cdf-sync.svg"], "from the phase JSON") {
		t.Error("cdf-sync has .hlog files and must not fall back")
	}
	mustContain(t, "cdf-poisson-1.svg", byFile["cdf-poisson-1.svg"], "from the phase JSON")
}

func TestPlotsEmpty(t *testing.T) {
	s := &Sweep{} // no manifest, no configs
	plots := Plots(s, s.Summary())
	if len(plots) != 2 {
		t.Fatalf("%d plots", len(plots))
	}
	for _, p := range plots {
		wellFormed(t, p.File, p.SVG)
		mustContain(t, p.File, p.SVG, "no data")
	}
}

func TestRender(t *testing.T) {
	for _, src := range []string{simDir, partialDir} {
		t.Run(src, func(t *testing.T) {
			dir := testkit.CopyDir(t, src)
			os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755)
			stale := filepath.Join(dir, PlotsDir, "cdf-gone.svg")
			os.WriteFile(stale, []byte("<svg/>"), 0o644)
			s := loadFixture(t, dir)
			if err := Render(dir, s); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{SummaryMarkdownFile, SummaryJSONFile, SummaryCSVFile, ReportHTMLFile, "plots/throughput.svg"} {
				if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
			if _, err := os.Stat(stale); err == nil {
				t.Error("a stale plot was left behind")
			}
			for _, d := range []string{dir, filepath.Join(dir, PlotsDir)} {
				if left, err := schema.TempFiles(d); err != nil || len(left) > 0 {
					t.Errorf("temporary files left in %s: %v (%v)", d, left, err)
				}
			}
			// Re-rendering gives the same bytes (no timestamps, no map order).
			before, _ := os.ReadFile(filepath.Join(dir, ReportHTMLFile))
			if err := Render(dir, loadFixture(t, dir)); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, ReportHTMLFile))
			if !bytes.Equal(before, after) {
				t.Error("rendering is not deterministic")
			}
			checkHTML(t, string(after), s.Simulated(), len(s.Summary().Searches) > 0)
		})
	}
	if err := Render(filepath.Join(t.TempDir(), "absent", "deeper"), loadFixture(t, simDir)); err != nil {
		t.Errorf("render into a new directory: %v", err)
	}
}

// checkHTML checks that report.html is self-contained: no scripts, no
// external resources, every plot inline, the banner when simulated, and
// the notes (both fixtures have a dataset that wrapped with caching off).
func checkHTML(t *testing.T, page string, simulated, searched bool) {
	t.Helper()
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url(", "https://", "http://cdn"} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	if n := strings.Count(page, "http://"); n != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("report.html has %d http:// references besides the SVG namespace", n)
	}
	if got := strings.Count(page, "<svg "); got < 3 {
		t.Errorf("%d inline SVGs", got)
	}
	// The sections are numbered in order; the capacity at the SLO is one
	// only when the sweep searched for it (the caller knows from the
	// results, not from the page).
	sections := []string{"Ranking", "Online phases", "Startup", "Server-side metrics", "Recommendation"}
	if searched {
		sections = append([]string{sections[0], "Capacity at the SLO"}, sections[1:]...)
	}
	want := []string{"<!DOCTYPE html>", "<h3>Notes</h3>", "dataset wrapped 3 times: prompts repeated"}
	for i, sec := range sections {
		want = append(want, fmt.Sprintf("%d. %s", i+1, sec))
	}
	mustContain(t, "report.html", page, want...)
	sim := fmt.Sprintf("%d. SIMULATED", len(sections)+1)
	if strings.Contains(page, sim) != simulated || strings.Contains(page, `class="banner"`) != simulated {
		t.Errorf("SIMULATED banner (%s) present = %t, want %t", sim, !simulated, simulated)
	}
}

func TestAxes(t *testing.T) {
	for _, tc := range []struct {
		raw, want float64
	}{
		{0.7, 1}, // rounds up to 1
		{1.3, 2}, // to 2
		{3, 5},   // to 5
		{7, 10},  // to the next power of ten
		{0.013, 0.02},
		{0, 1}, // degenerate
	} {
		if got := niceStep(tc.raw); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
	a := linearAxis(0, 3.7, "x")
	if a.lo != 0 || a.hi != 4 || len(a.ticks) != 5 || a.ticks[4].label != "4" {
		t.Errorf("linearAxis: %+v", a)
	}
	if f := a.frac(2); f != 0.5 {
		t.Errorf("frac %v", f)
	}
	l := logAxis(212, 51380, "y")
	if l.lo != 100 || l.hi != 100000 || l.ticks[0].label != "100" || l.ticks[len(l.ticks)-1].label != "100000" {
		t.Errorf("logAxis: lo %v hi %v ticks %v", l.lo, l.hi, l.ticks)
	}
	if f := l.frac(1000); math.Abs(f-1.0/3) > 1e-9 {
		t.Errorf("log frac %v", f)
	}
	if !valueAxis(10, 1000, "v").log || valueAxis(100, 1000, "v").log {
		t.Error("valueAxis switches to log beyond a factor of 30")
	}
	for _, tc := range []struct{ q, want float64 }{{0, 0}, {0.9, 1}, {0.99, 2}, {1, 3}, {0.99999, 3}} {
		if got := nines(tc.q, 3); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("nines(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}
