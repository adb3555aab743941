package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The plots are SVG written by hand: no scripts, no fonts or styles from the
// network, readable on their own and inline in report.html.

// palette is Okabe–Ito, distinguishable with the common colour-vision
// deficiencies; series beyond its length reuse it with a different dash.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"}

const (
	fontFamily = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
	charWidth  = 6.6 // approximate width of a 12px character, for layout
	gridColor  = "#e3e3e3"
	axisColor  = "#444"
	simColor   = "#c00000"
)

// svg accumulates one SVG document.
type svg struct {
	b    strings.Builder
	w, h float64
}

// newSVG starts a document with a white background and a title; simulated
// documents say SIMULATED in red before the title, in the <title> too.
func newSVG(w, h float64, title string, simulated bool) *svg {
	s := &svg{w: w, h: h}
	full := title
	if simulated {
		full = "SIMULATED — " + title
	}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="12" role="img">`+"\n",
		n(w), n(h), n(w), n(h), esc(fontFamily))
	fmt.Fprintf(&s.b, "<title>%s</title>\n", esc(full))
	fmt.Fprintf(&s.b, `<rect width="%s" height="%s" fill="#ffffff"/>`+"\n", n(w), n(h))
	s.b.WriteString(`<text x="16" y="26" font-size="16" font-weight="600" fill="#222">`)
	if simulated {
		fmt.Fprintf(&s.b, `<tspan fill="%s">SIMULATED</tspan> — `, simColor)
	}
	s.b.WriteString(esc(title) + "</text>\n")
	return s
}

// String closes the document and returns it.
func (s *svg) String() string { return s.b.String() + "</svg>\n" }

// n formats a coordinate.
func n(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// esc escapes text for SVG content and attribute values.
func esc(s string) string { return html.EscapeString(s) }

func (s *svg) text(x, y float64, anchor, attrs, content string) {
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", n(x), n(y), anchor, attrs, esc(content))
}

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, width float64) {
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"/>`+"\n",
		n(x1), n(y1), n(x2), n(y2), stroke, n(width))
}

func (s *svg) rect(x, y, w, h float64, fill string) {
	fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", n(x), n(y), n(w), n(h), fill)
}

func (s *svg) polyline(pts [][2]float64, stroke, dash string) {
	if len(pts) == 0 {
		return
	}
	var p strings.Builder
	for i, pt := range pts {
		if i > 0 {
			p.WriteByte(' ')
		}
		p.WriteString(n(pt[0]) + "," + n(pt[1]))
	}
	d := ""
	if dash != "" {
		d = ` stroke-dasharray="` + dash + `"`
	}
	fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"%s/>`+"\n", p.String(), stroke, d)
}

func (s *svg) circle(x, y, r float64, fill string) {
	fmt.Fprintf(&s.b, `<circle cx="%s" cy="%s" r="%s" fill="%s"/>`+"\n", n(x), n(y), n(r), fill)
}

// Marker shapes, one per kind of phase.
const (
	markerCircle  = "circle"  // open-loop phase
	markerDiamond = "diamond" // sync phase
	markerSquare  = "square"  // rate-inf phase
	markerCross   = "cross"   // a phase cut as saturated
)

// marker draws a shape centred on (x, y), filled or hollow.
func (s *svg) marker(shape string, x, y float64, color string, hollow bool) {
	fill := color
	if hollow {
		fill = "#ffffff"
	}
	style := fmt.Sprintf(`fill="%s" stroke="%s" stroke-width="1.5"`, fill, color)
	switch shape {
	case markerDiamond:
		fmt.Fprintf(&s.b, `<polygon points="%s,%s %s,%s %s,%s %s,%s" %s/>`+"\n",
			n(x), n(y-5), n(x+5), n(y), n(x), n(y+5), n(x-5), n(y), style)
	case markerSquare:
		fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="8" height="8" %s/>`+"\n", n(x-4), n(y-4), style)
	case markerCross:
		width := 2.0
		if hollow {
			width = 1
		}
		s.line(x-4, y-4, x+4, y+4, color, width)
		s.line(x-4, y+4, x+4, y-4, color, width)
	default:
		fmt.Fprintf(&s.b, `<circle cx="%s" cy="%s" r="3.5" %s/>`+"\n", n(x), n(y), style)
	}
}

// tick is one labelled position on an axis.
type tick struct {
	v     float64
	label string
}

// axis maps data values onto [0, 1], linearly or logarithmically.
type axis struct {
	lo, hi float64
	log    bool
	label  string
	ticks  []tick
}

// frac is the position of v along the axis, clamped to [0, 1].
func (a axis) frac(v float64) float64 {
	var f float64
	if a.log {
		v = math.Max(v, a.lo)
		f = (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	} else {
		f = (v - a.lo) / (a.hi - a.lo)
	}
	return math.Max(0, math.Min(1, f))
}

// linearAxis covers [lo, hi] with about five round ticks.
func linearAxis(lo, hi float64, label string) axis {
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	a := axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, label: label}
	decimals := max(0, int(-math.Floor(math.Log10(step))))
	for v := a.lo; v <= a.hi+step/2; v += step {
		a.ticks = append(a.ticks, tick{v, strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	return a
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// logAxis covers [lo, hi] (lo > 0) in whole decades, with ticks at 1, 2
// and 5 times each power of ten.
func logAxis(lo, hi float64, label string) axis {
	lo = math.Max(lo, 1e-3)
	if hi <= lo {
		hi = lo * 10
	}
	a := axis{lo: math.Pow(10, math.Floor(math.Log10(lo))), hi: math.Pow(10, math.Ceil(math.Log10(hi))), log: true, label: label}
	for d := a.lo; d < a.hi*1.01; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := d * m; v <= a.hi*1.0001 {
				a.ticks = append(a.ticks, tick{v, logLabel(v)})
			}
		}
	}
	return a
}

// logLabel prints a 1-2-5 tick value without exponent notation.
func logLabel(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// valueAxis picks a linear axis from zero, or a log axis when the values
// span more than a factor of 30.
func valueAxis(lo, hi float64, label string) axis {
	if lo > 0 && hi/lo > 30 {
		return logAxis(lo, hi, label+" (log scale)")
	}
	return linearAxis(0, hi, label)
}

// percentileAxis is the HdrHistogram percentile axis: x = log10(1/(1−q)),
// so 90%, 99%, 99.9% … are evenly spaced, up to the given number of nines.
func percentileAxis(nines int) axis {
	a := axis{lo: 0, hi: float64(nines), label: "percentile (log scale of 1/(1−q))"}
	a.ticks = append(a.ticks, tick{0, "0%"})
	labels := []string{"90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
	for i := 1; i <= nines && i <= len(labels); i++ {
		a.ticks = append(a.ticks, tick{float64(i), labels[i-1]})
	}
	return a
}

// nines is the percentile-axis position of quantile q (0..1), capped.
func nines(q float64, cap int) float64 {
	if q >= 1 {
		return float64(cap)
	}
	return math.Min(math.Log10(1/(1-q)), float64(cap))
}

// panel is a plot area in pixels with its two axes.
type panel struct {
	x, y, w, h float64
	xa, ya     axis
	title      string
}

func (p panel) px(v float64) float64 { return p.x + p.xa.frac(v)*p.w }
func (p panel) py(v float64) float64 { return p.y + p.h - p.ya.frac(v)*p.h }

// drawPanel draws the grid, the ticks and their labels, the axis labels
// and the panel title.
func (s *svg) drawPanel(p panel) {
	if p.title != "" {
		s.text(p.x, p.y-10, "start", ` font-size="13" font-weight="600" fill="#222"`, p.title)
	}
	for _, t := range p.ya.ticks {
		y := p.py(t.v)
		s.line(p.x, y, p.x+p.w, y, gridColor, 1)
		s.text(p.x-6, y+4, "end", ` fill="#555"`, t.label)
	}
	for _, t := range p.xa.ticks {
		x := p.px(t.v)
		s.line(x, p.y, x, p.y+p.h, gridColor, 1)
		s.text(x, p.y+p.h+16, "middle", ` fill="#555"`, t.label)
	}
	s.line(p.x, p.y+p.h, p.x+p.w, p.y+p.h, axisColor, 1)
	s.line(p.x, p.y, p.x, p.y+p.h, axisColor, 1)
	s.text(p.x+p.w/2, p.y+p.h+36, "middle", ` fill="#333"`, p.xa.label)
	cx, cy := p.x-52, p.y+p.h/2
	s.text(cx, cy, "middle", fmt.Sprintf(` fill="#333" transform="rotate(-90 %s %s)"`, n(cx), n(cy)), p.ya.label)
}

// legendEntry is one legend item: a line (with dash) or a filled box.
type legendEntry struct {
	label string
	color string
	dash  string
	box   bool
	// marker, when set, draws that shape (hollow if dash is set) instead
	// of a line.
	marker string
}

// legendLayout places entries left to right, wrapping at width; it returns
// each entry's offset and the total height.
func legendLayout(entries []legendEntry, width float64) ([][2]float64, float64) {
	var pos [][2]float64
	x, y := 0.0, 0.0
	for _, e := range entries {
		w := 34 + float64(len([]rune(e.label)))*charWidth + 18
		if x > 0 && x+w > width {
			x, y = 0, y+20
		}
		pos = append(pos, [2]float64{x, y})
		x += w
	}
	if len(entries) == 0 {
		return nil, 0
	}
	return pos, y + 20
}

// drawLegend draws the entries at (x, y) laid out by legendLayout.
func (s *svg) drawLegend(x, y float64, entries []legendEntry, pos [][2]float64) {
	for i, e := range entries {
		ex, ey := x+pos[i][0], y+pos[i][1]
		if e.color == "" {
			s.text(ex, ey, "start", ` fill="#555"`, e.label)
			continue
		}
		switch {
		case e.marker != "":
			s.marker(e.marker, ex+14, ey-4, e.color, e.dash != "")
		case e.box:
			s.rect(ex+4, ey-9, 22, 10, e.color)
		default:
			s.polyline([][2]float64{{ex, ey - 4}, {ex + 28, ey - 4}}, e.color, e.dash)
		}
		s.text(ex+34, ey, "start", ` fill="#222"`, e.label)
	}
}

// seriesStyle is the colour and dash of the i-th series.
func seriesStyle(i int) (string, string) {
	dash := ""
	if i >= len(palette) {
		dash = "2 3"
	}
	return palette[i%len(palette)], dash
}
