package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"loadgen/loadgen/schema"
)

// Output files of Render, relative to the results directory.
const (
	SummaryMarkdownFile = "summary.md"
	SummaryJSONFile     = "summary.json"
	SummaryCSVFile      = "summary.csv"
	ReportHTMLFile      = "report.html"
	PlotsDir            = "plots"
)

// Render writes the sweep's report into dir: summary.md, summary.json,
// summary.csv, plots/*.svg and report.html, each atomically. It is what
// the sweep calls at the end (and after each config, to keep a partial
// report current) and what `loadgen report DIR` calls on stored results.
// SVG files in plots/ that this rendering did not produce (a phase that no
// longer exists) are removed.
func Render(dir string, s *Sweep) error {
	sum := s.Summary()
	var md, js, csv, page bytes.Buffer
	if err := sum.WriteMarkdown(&md); err != nil {
		return fmt.Errorf("render %s: %w", SummaryMarkdownFile, err)
	}
	if err := sum.WriteJSON(&js); err != nil {
		return fmt.Errorf("render %s: %w", SummaryJSONFile, err)
	}
	if err := sum.WriteCSV(&csv); err != nil {
		return fmt.Errorf("render %s: %w", SummaryCSVFile, err)
	}
	plots := Plots(s, sum)
	if err := sum.WriteHTML(&page, plots); err != nil {
		return fmt.Errorf("render %s: %w", ReportHTMLFile, err)
	}
	pdir := filepath.Join(dir, PlotsDir)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return fmt.Errorf("render plots: %w", err)
	}
	written := map[string]bool{}
	for _, p := range plots {
		if err := schema.WriteFileAtomic(filepath.Join(pdir, p.File), []byte(p.SVG)); err != nil {
			return fmt.Errorf("render plots: %w", err)
		}
		written[p.File] = true
	}
	if old, err := filepath.Glob(filepath.Join(pdir, "*.svg")); err == nil {
		for _, f := range old {
			if !written[filepath.Base(f)] {
				os.Remove(f)
			}
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{SummaryMarkdownFile, md.Bytes()}, {SummaryJSONFile, js.Bytes()}, {SummaryCSVFile, csv.Bytes()}, {ReportHTMLFile, page.Bytes()}} {
		if err := schema.WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("render: %w", err)
		}
	}
	return nil
}

// WriteJSON writes summary.json: the Summary as indented JSON with
// schema_version first.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := schema.Encode(s)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
