package report

import (
	"html/template"
	"io"
	"strings"
)

// htmlSection is one section of report.html: a table and its plots.
type htmlSection struct {
	ID, Title, Intro string
	Header           []string
	Right            []bool
	Rows             [][]string
	Plots            []template.HTML
}

type htmlPage struct {
	Title, Banner, Meta string
	Simulated           bool
	Sections            []htmlSection
	Rec                 *Recommendation
	Warnings, Notes     []string
	// RecN and SimN number the recommendation and SIMULATED sections.
	RecN, SimN int
}

// WriteHTML writes report.html: the summary's tables and the plots inline,
// with its styles embedded, so that it opens offline from a single file.
func (s *Summary) WriteHTML(w io.Writer, plots []Plot) error {
	page := htmlPage{
		Title:     "loadgen sweep report: " + s.Profile,
		Banner:    s.Banner,
		Meta:      strings.ReplaceAll(s.metaLine(), "`", ""),
		Simulated: s.Simulated,
		Rec:       s.Recommendation,
		Warnings:  s.Warnings,
		Notes:     s.Notes,
	}
	if s.Simulated {
		page.Title = "SIMULATED " + page.Title
	}
	byFile := map[string]template.HTML{}
	var cdfs []template.HTML
	for _, p := range plots {
		svg := template.HTML(p.SVG) // built by this package, every text escaped
		byFile[p.File] = svg
		if strings.HasPrefix(p.File, "cdf-") {
			cdfs = append(cdfs, svg)
		}
	}
	for _, t := range s.tables() {
		sec := htmlSection{ID: t.id, Title: t.title, Intro: t.intro, Header: t.header, Right: t.right, Rows: t.rows}
		switch t.id {
		case "ranking":
			sec.Plots = nonEmpty(byFile["throughput.svg"])
		case "online":
			sec.Plots = append(nonEmpty(byFile["latency-vs-rate.svg"]), cdfs...)
		}
		page.Sections = append(page.Sections, sec)
	}
	page.RecN, page.SimN = s.sectionNumbers()
	return htmlTemplate.Execute(w, page)
}

func nonEmpty(h template.HTML) []template.HTML {
	if h == "" {
		return nil
	}
	return []template.HTML{h}
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0 auto; max-width: 1320px; padding: 16px 20px 48px; line-height: 1.4; }
h1 { font-size: 24px; margin: 8px 0; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sim { color: #c00000; }
.banner { background: #fff0f0; border: 2px solid #c00000; color: #800000; font-weight: 600; padding: 10px 14px; margin: 12px 0; border-radius: 4px; }
.meta { color: #555; font-size: 13px; }
nav { font-size: 13px; margin: 8px 0 0; }
nav a { margin-right: 14px; color: #0b5cad; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; white-space: nowrap; }
td.w { white-space: normal; min-width: 240px; max-width: 460px; }
th { background: #f4f6f8; text-align: left; }
.r { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 16px 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
.rec { font-size: 16px; font-weight: 600; }
code { background: #f4f6f8; padding: 1px 4px; border-radius: 3px; font-size: 12px; overflow-wrap: anywhere; }
</style>
</head>
<body>
<header>
<h1>{{if .Simulated}}<span class="sim">SIMULATED</span> {{end}}loadgen sweep report</h1>
{{if .Simulated}}<div class="banner">{{.Banner}}</div>{{end}}
<p class="meta">{{.Meta}}</p>
<nav>{{range .Sections}}<a href="#{{.ID}}">{{.Title}}</a>{{end}}<a href="#recommendation">{{.RecN}}. Recommendation</a></nav>
</header>
{{range .Sections}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
<p>{{.Intro}}</p>
<div class="scroll"><table>
{{- $right := .Right}}
<thead><tr>{{range $i, $h := .Header}}<th{{if index $right $i}} class="r"{{end}}>{{$h}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range $i, $c := .}}<td class="{{if index $right $i}}r{{else if gt (len $c) 40}}w{{end}}">{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{range .Plots}}<figure>{{.}}</figure>
{{end}}
</section>
{{end}}
<section id="recommendation">
<h2>{{.RecN}}. Recommendation</h2>
{{if .Rec.Config}}<p class="rec">{{.Rec.Config}}</p>{{if .Rec.Settings}}<p>Settings: <code>{{printf "%s" .Rec.Settings}}</code></p>{{end}}{{end}}
<ul>{{range .Rec.Reasons}}<li>{{.}}</li>{{end}}</ul>
{{if .Warnings}}<h3>Warnings</h3>
<ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Notes}}<h3>Notes</h3>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</section>
{{if .Simulated}}<section id="simulated">
<h2>{{.SimN}}. SIMULATED</h2>
<div class="banner">{{.Banner}}</div>
</section>{{end}}
</body>
</html>
`))
