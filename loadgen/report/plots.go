package report

import (
	"fmt"
	"math"
	"regexp"
	"sort"

	"loadgen/loadgen/schema"
)

// Plot is one SVG plot: its file name under plots/, its title and the
// document.
type Plot struct {
	File  string
	Title string
	SVG   string
}

// Plots draws the sweep's plots: query throughput per config
// (throughput.svg), p50/p99 TTFT and query latency against achieved rate per
// config (latency-vs-rate.svg), and for each phase the latency CDFs of every
// config (cdf-<phase>.svg) from the .hlog histograms, or from the phase
// JSON's percentiles when a phase has no readable .hlog.
func Plots(s *Sweep, sum *Summary) []Plot {
	plots := []Plot{throughputPlot(sum), latencyVsRatePlot(sum)}
	for _, name := range phaseNames(s) {
		plots = append(plots, cdfPlot(s, sum.Simulated, name))
	}
	return plots
}

// phaseNames lists phase names in order of first appearance; a search's
// trials are left out (their rates differ from config to config; the
// search phase's own distribution is its passing trial's).
func phaseNames(s *Sweep) []string {
	seen := map[string]bool{}
	var out []string
	for i := range s.Configs {
		for _, p := range s.Configs[i].Phases {
			if p.Result != nil && !p.trial() && !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p.Name)
			}
		}
	}
	return out
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// twoPanels lays out two side-by-side panels of a 960-pixel-wide plot.
func twoPanels(xa, ya [2]axis, titles [2]string) [2]panel {
	return [2]panel{
		{x: 78, y: 70, w: 370, h: 290, xa: xa[0], ya: ya[0], title: titles[0]},
		{x: 560, y: 70, w: 370, h: 290, xa: xa[1], ya: ya[1], title: titles[1]},
	}
}

const twoPanelWidth = 960

// noData marks an empty panel.
func (s *svg) noData(p panel) {
	s.text(p.x+p.w/2, p.y+p.h/2, "middle", ` fill="#888"`, "no data")
}

// latencyVsRatePlot draws p50 and p99 of TTFT and query latency against
// the achieved arrival rate, one colour per config. Open-loop phases and a
// search's trials are joined by lines (p50 solid, p99 dashed); the sync
// phase (diamond) and the rate-inf phase (square) are single points:
// closed loops, not points on the load curve; a phase cut as saturated
// (cross) covers only what finished, so it is not joined either. p50
// markers are filled, p99 markers hollow. A search's SLO is a dark red
// line in its metric's panel, and each config's capacity at the SLO (its
// knee) a dotted vertical line in its colour.
func latencyVsRatePlot(sum *Summary) Plot {
	type pt struct {
		x, p50, p99 float64
		shape       string
	}
	metrics := [2]struct {
		p50, p99 func(PhaseRow) *float64
	}{
		{func(r PhaseRow) *float64 { return r.TTFTP50Ms }, func(r PhaseRow) *float64 { return r.TTFTP99Ms }},
		{func(r PhaseRow) *float64 { return r.QueryLatencyP50Ms }, func(r PhaseRow) *float64 { return r.QueryLatencyP99Ms }},
	}
	configs := configNames(sum)
	data := [2]map[string][]pt{{}, {}}
	var xmax float64
	ylo, yhi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{}
	cut := false
	for _, r := range sum.Phases {
		// A search phase repeats its passing trial's numbers.
		if r.AchievedRate == nil || *r.AchievedRate <= 0 || r.CapacityAtSLO != nil {
			continue
		}
		shape := markerCircle
		switch {
		case r.Arrival == "sync":
			shape = markerDiamond
		case r.TargetRate != nil && r.TargetRate.IsInf():
			shape = markerSquare
		case r.SaturatedAtS != nil:
			shape, cut = markerCross, true
		}
		for m, mt := range metrics {
			p50, p99 := mt.p50(r), mt.p99(r)
			if p50 == nil || p99 == nil {
				continue
			}
			data[m][r.Config] = append(data[m][r.Config], pt{*r.AchievedRate, *p50, *p99, shape})
			xmax = math.Max(xmax, *r.AchievedRate)
			ylo[m], yhi[m] = math.Min(ylo[m], *p50), math.Max(yhi[m], *p99)
		}
	}
	knees, slo := kneesAndSLO(sum)
	for _, k := range knees {
		xmax = math.Max(xmax, k.rate)
	}
	if slo.panel >= 0 {
		ylo[slo.panel], yhi[slo.panel] = math.Min(ylo[slo.panel], slo.ms), math.Max(yhi[slo.panel], slo.ms)
	}
	xa := linearAxis(0, xmax*1.05, "achieved arrival rate (queries/s)")
	ps := twoPanels([2]axis{xa, xa},
		[2]axis{valueAxis(ylo[0], yhi[0], "TTFT (ms)"), valueAxis(ylo[1], yhi[1], "query latency (ms)")},
		[2]string{"TTFT p50 / p99", "Query latency p50 / p99"})
	entries := configLegend(configs, func(c string) bool { return len(data[0][c])+len(data[1][c]) > 0 })
	entries = append(entries,
		legendEntry{label: "p50", color: "#555"}, legendEntry{label: "p99", color: "#555", dash: "6 4"},
		legendEntry{label: "open-loop phase", color: "#555", marker: markerCircle},
		legendEntry{label: "sync phase", color: "#555", marker: markerDiamond},
		legendEntry{label: "rate inf phase", color: "#555", marker: markerSquare},
		legendEntry{label: "filled = p50, hollow = p99"})
	if cut {
		entries = append(entries, legendEntry{label: "cut as saturated", color: "#555", marker: markerCross})
	}
	if slo.panel >= 0 {
		entries = append(entries, legendEntry{label: "SLO: " + slo.label, color: sloColor, dash: "8 4"})
	}
	if len(knees) > 0 {
		entries = append(entries, legendEntry{label: "capacity at SLO (knee)", color: "#555", dash: "2 3"})
	}
	pos, lh := legendLayout(entries, twoPanelWidth-40)
	title := "Latency vs achieved rate"
	doc := newSVG(twoPanelWidth, 430+lh+12, title, sum.Simulated)
	for m, p := range ps {
		doc.drawPanel(p)
		if len(data[m]) == 0 {
			doc.noData(p)
		}
		for i, c := range configs {
			pts := data[m][c]
			sort.SliceStable(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
			color, dash := seriesStyle(i)
			var l50, l99 [][2]float64
			for _, q := range pts {
				if q.shape == markerCircle {
					l50 = append(l50, [2]float64{p.px(q.x), p.py(q.p50)})
					l99 = append(l99, [2]float64{p.px(q.x), p.py(q.p99)})
				}
			}
			doc.polyline(l50, color, dash)
			doc.polyline(l99, color, "6 4")
			for _, q := range pts {
				doc.marker(q.shape, p.px(q.x), p.py(q.p50), color, false)
				doc.marker(q.shape, p.px(q.x), p.py(q.p99), color, true)
			}
		}
		for _, k := range knees {
			color, _ := seriesStyle(k.index)
			x := p.px(k.rate)
			doc.polyline([][2]float64{{x, p.y}, {x, p.y + p.h}}, color, "2 3")
		}
		if m == slo.panel {
			y := p.py(slo.ms)
			doc.polyline([][2]float64{{p.x, y}, {p.x + p.w, y}}, sloColor, "8 4")
			doc.text(p.x+p.w-4, y-4, "end", ` font-size="11" fill="`+sloColor+`"`, "SLO "+slo.label)
		}
	}
	doc.drawLegend(24, 430, entries, pos)
	return Plot{File: "latency-vs-rate.svg", Title: title, SVG: doc.String()}
}

// configNames lists the sweep's configs in order.
func configNames(sum *Summary) []string {
	out := make([]string, len(sum.Startup))
	for i, r := range sum.Startup {
		out[i] = r.Config
	}
	return out
}

// configLegend lists the configs that have data, each in the colour of
// its position in the sweep, so that a config keeps its colour across
// plots.
func configLegend(configs []string, has func(string) bool) []legendEntry {
	var out []legendEntry
	for i, c := range configs {
		if !has(c) {
			continue
		}
		color, dash := seriesStyle(i)
		out = append(out, legendEntry{label: c, color: color, dash: dash})
	}
	return out
}

// cdfPlot draws, for one phase name, the TTFT and query-latency
// distributions of every config on HdrHistogram's percentile axis.
func cdfPlot(s *Sweep, simulated bool, phase string) Plot {
	metrics := [2]string{schema.MetricTTFT, schema.MetricQueryLatency}
	type line struct {
		pts      [][2]float64 // (quantile 0..1, ms)
		fromJSON bool
	}
	var data [2][]line
	var idx [2][]int
	var ylo, yhi [2]float64
	ylo = [2]float64{math.Inf(1), math.Inf(1)}
	var maxCount int64
	names := make([]string, len(s.Configs))
	for i := range s.Configs {
		c := &s.Configs[i]
		names[i] = c.Name
		p := c.Phase(phase)
		if p == nil || p.Result == nil {
			continue
		}
		hists, err := p.Histograms()
		for m, metric := range metrics {
			var l line
			if h := hists[metric]; err == nil && h != nil && h.TotalCount() > 0 {
				for _, b := range h.CumulativeDistributionWithTicks(5) {
					l.pts = append(l.pts, [2]float64{b.Quantile / 100, float64(b.ValueAt) / 1000})
				}
				maxCount = max(maxCount, h.TotalCount())
			} else if st, ok := p.Result.Latency[metric]; ok && st.Count > 0 {
				l.fromJSON = true
				l.pts = [][2]float64{{0, st.Min}, {0.5, st.P50}, {0.9, st.P90}, {0.95, st.P95},
					{0.99, st.P99}, {0.999, st.P999}, {1, st.Max}}
				maxCount = max(maxCount, st.Count)
			}
			if len(l.pts) == 0 {
				continue
			}
			for _, q := range l.pts {
				ylo[m], yhi[m] = math.Min(ylo[m], q[1]), math.Max(yhi[m], q[1])
			}
			data[m] = append(data[m], l)
			idx[m] = append(idx[m], i)
		}
	}
	capN := int(math.Ceil(math.Log10(float64(max(maxCount, 1)))))
	capN = max(2, min(capN, 6))
	xa := percentileAxis(capN)
	ps := twoPanels([2]axis{xa, xa},
		[2]axis{valueAxis(ylo[0], yhi[0], "TTFT (ms)"), valueAxis(ylo[1], yhi[1], "query latency (ms)")},
		[2]string{"TTFT distribution", "Query latency distribution"})
	has := map[string]bool{}
	for m := range idx {
		for _, i := range idx[m] {
			has[names[i]] = true
		}
	}
	entries := configLegend(names, func(c string) bool { return has[c] })
	anyJSON := false
	for m := range data {
		for _, l := range data[m] {
			anyJSON = anyJSON || l.fromJSON
		}
	}
	if anyJSON {
		entries = append(entries, legendEntry{label: "lines with dots: from the phase JSON's percentiles (no .hlog)"})
	}
	pos, lh := legendLayout(entries, twoPanelWidth-40)
	title := fmt.Sprintf("Latency distribution, phase %s", phase)
	doc := newSVG(twoPanelWidth, 430+lh+12, title, simulated)
	for m, p := range ps {
		doc.drawPanel(p)
		if len(data[m]) == 0 {
			doc.noData(p)
		}
		for k, l := range data[m] {
			color, dash := seriesStyle(idx[m][k])
			var pts [][2]float64
			for _, q := range l.pts {
				pts = append(pts, [2]float64{p.px(nines(q[0], capN)), p.py(q[1])})
			}
			doc.polyline(pts, color, dash)
			if l.fromJSON {
				for _, q := range pts {
					doc.circle(q[0], q[1], 3, color)
				}
			}
		}
	}
	doc.drawLegend(24, 430, entries, pos)
	file := "cdf-" + unsafeFileChars.ReplaceAllString(phase, "_") + ".svg"
	return Plot{File: file, Title: title, SVG: doc.String()}
}

// sloColor draws a search's SLO.
const sloColor = "#8b0000"

// knee is a config's capacity at the SLO on the latency-vs-rate plot.
type knee struct {
	index int // the config's position, for its colour
	rate  float64
}

// sloLine is the SLO drawn on the latency-vs-rate plot: its panel (0 TTFT,
// 1 query latency, -1 none) and threshold.
type sloLine struct {
	panel int
	ms    float64
	label string
}

// kneesAndSLO reads the searches: each config's capacity at the SLO
// above zero, and the SLO of the first search (the one the plot draws;
// a profile's searches share it as a rule).
func kneesAndSLO(sum *Summary) ([]knee, sloLine) {
	slo := sloLine{panel: -1}
	index := map[string]int{}
	for i, c := range configNames(sum) {
		index[c] = i
	}
	var knees []knee
	for _, r := range sum.Searches {
		if r.CapacityAtSLO != nil && *r.CapacityAtSLO > 0 {
			knees = append(knees, knee{index[r.Config], *r.CapacityAtSLO})
		}
		if slo.panel >= 0 || r.MaxMs <= 0 {
			continue
		}
		switch r.Metric {
		case schema.MetricTTFT:
			slo.panel = 0
		case schema.MetricQueryLatency:
			slo.panel = 1
		default:
			continue
		}
		slo.ms, slo.label = r.MaxMs, fmt.Sprintf("p%g ≤ %s", r.Percentile, schema.FormatMs(r.MaxMs))
	}
	return knees, slo
}
