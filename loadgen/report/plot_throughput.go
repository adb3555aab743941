package report

import (
	"math"
	"strconv"

	"loadgen/loadgen/schema"
)

// throughputPlot draws query throughput per config as horizontal bars: the
// sync phase (the offline equivalent) and the rate-inf phase (capacity),
// in ranking order.
func throughputPlot(sum *Summary) Plot {
	type group struct {
		config    string
		sync, inf *float64
		note      string
	}
	capacity := map[string]*float64{}
	for _, r := range sum.Phases {
		if r.TargetRate != nil && r.TargetRate.IsInf() && capacity[r.Config] == nil && r.finished() {
			capacity[r.Config] = r.QueryThroughput
		}
	}
	var groups []group
	xmax, labelW := 0.0, 120.0
	for _, r := range sum.Ranking {
		g := group{config: r.Config, sync: r.QueriesPerSec, inf: capacity[r.Config]}
		if g.sync == nil && g.inf == nil {
			g.note = statusNote(r.Status, r.FailureClass, "")
			if r.Status == schema.StatusOK {
				g.note = r.Reason
			}
		}
		for _, v := range []*float64{g.sync, g.inf} {
			if v != nil {
				xmax = math.Max(xmax, *v)
			}
		}
		labelW = math.Max(labelW, float64(len([]rune(r.Config)))*charWidth+24)
		groups = append(groups, g)
	}
	const (
		width  = 860.0
		barH   = 14.0
		groupH = 2*barH + 18
		top    = 70.0
	)
	p := panel{x: labelW + 12, y: top, w: width - labelW - 12 - 70, h: math.Max(groupH, float64(len(groups))*groupH),
		xa: linearAxis(0, xmax*1.05, "query throughput (queries/s)"), ya: axis{lo: 0, hi: 1}}
	entries := []legendEntry{
		{label: "sync (offline equivalent)", color: palette[0], box: true},
		{label: "rate inf (capacity)", color: palette[1], box: true},
	}
	pos, lh := legendLayout(entries, width-40)
	title := "Query throughput per config"
	doc := newSVG(width, p.y+p.h+64+lh+8, title, sum.Simulated)
	doc.drawPanel(p)
	if len(groups) == 0 {
		doc.noData(p)
	}
	for i, g := range groups {
		y := p.y + float64(i)*groupH + 8
		doc.text(p.x-8, y+barH+4, "end", ` fill="#222"`, g.config)
		if g.note != "" {
			doc.text(p.x+6, y+barH+4, "start", ` fill="#888" font-style="italic"`, g.note)
			continue
		}
		for j, v := range []*float64{g.sync, g.inf} {
			by := y + float64(j)*barH
			if v == nil {
				doc.text(p.x+6, by+barH-3, "start", ` fill="#888" font-size="11"`, "not measured")
				continue
			}
			w := p.px(*v) - p.x
			doc.rect(p.x, by, w, barH-2, palette[j])
			doc.text(p.x+w+4, by+barH-3, "start", ` fill="#222" font-size="11"`, strconv.FormatFloat(*v, 'f', 2, 64))
		}
	}
	doc.drawLegend(24, p.y+p.h+64, entries, pos)
	return Plot{File: "throughput.svg", Title: title, SVG: doc.String()}
}
