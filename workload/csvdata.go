package workload

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// csvDataset reads the offline benchmark's CSV: a header with a "query"
// column and answer_0 … answer_{n−1} columns (other columns are ignored),
// then one row per query. An empty cell counts as a missing document, as
// pandas reads it as NaN.
type csvDataset struct {
	r       *csv.Reader
	t       *textReader
	br      *bufio.Reader // between t and r
	off     int64         // input offset where the next record starts
	name    string
	query   int   // column of "query"
	answers []int // column of answer_i, i < n
	want    int   // documents per query
	policy  rowPolicy
	closers []io.Closer
	done    error
}

func newCSVDataset(t *textReader, name string, opts DatasetOptions, closers []io.Closer) (*csvDataset, error) {
	br := bufio.NewReaderSize(t, textBufSize)
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	d := &csvDataset{r: r, t: t, br: br, name: name, policy: rowPolicy{name: name, opts: opts}, closers: closers}
	header, err := d.read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file: want a header with query, answer_0 … answer_%d", name, max(opts.SearchNum, 1)-1)
	}
	if err != nil {
		return nil, err
	}
	if err := d.readHeader(header); err != nil {
		return nil, err
	}
	return d, nil
}

// readHeader finds the query and answer_N columns.
func (d *csvDataset) readHeader(header []string) error {
	d.query = -1
	cols := map[int]int{}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if seen[h] && (h == "query" || strings.HasPrefix(h, "answer_")) {
			line, col := d.r.FieldPos(i)
			return &DatasetError{File: d.name, Line: line, Col: col, Err: fmt.Errorf("duplicate column %q", h)}
		}
		seen[h] = true
		if h == "query" {
			d.query = i
			continue
		}
		if n, ok := answerIndex(h); ok {
			cols[n] = i
		}
	}
	if d.query < 0 {
		return &DatasetError{File: d.name, Line: 1, Err: fmt.Errorf(
			"no \"query\" column in the header (want query, answer_0 … answer_{n-1}; got %s)", shorten(strings.Join(header, ","), 120))}
	}
	for {
		c, ok := cols[len(d.answers)]
		if !ok {
			break
		}
		d.answers = append(d.answers, c)
	}
	opts := d.policy.opts
	d.want = opts.SearchNum
	if d.want == 0 {
		d.want = len(d.answers)
		d.policy.opts.SearchNum = d.want
	}
	if len(d.answers) == 0 {
		return &DatasetError{File: d.name, Line: 1, Err: errors.New("no answer_0 column in the header (want query, answer_0 … answer_{n-1})")}
	}
	if len(d.answers) < d.want && opts.ShortRows != ShortRowsPad {
		return &DatasetError{File: d.name, Line: 1, Err: fmt.Errorf(
			"header has %d answer columns (answer_0 … answer_%d) but search_num is %d; lower search_num or set the short-row policy to pad",
			len(d.answers), len(d.answers)-1, d.want)}
	}
	if len(d.answers) > d.want {
		d.answers = d.answers[:d.want]
	}
	return nil
}

// answerIndex parses "answer_N" (N a non-negative decimal without sign).
func answerIndex(h string) (int, bool) {
	s, ok := strings.CutPrefix(h, "answer_")
	if !ok || s == "" || s[0] == '+' || s[0] == '-' || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Next implements Dataset.
func (d *csvDataset) Next() (Query, error) {
	if d.done != nil {
		return Query{}, d.done
	}
	for {
		rec, err := d.read()
		if err == io.EOF {
			d.done = d.policy.end()
			return Query{}, d.done
		}
		if err != nil {
			d.done = err
			return Query{}, d.done
		}
		line, _ := d.r.FieldPos(0)
		if d.query >= len(rec) || rec[d.query] == "" {
			d.done = &DatasetError{File: d.name, Line: line, Err: errors.New("empty query")}
			return Query{}, d.done
		}
		row := make([]string, len(d.answers))
		for i, c := range d.answers {
			if c < len(rec) {
				row[i] = rec[c]
			}
		}
		docs, ok, err := d.policy.fit(line, row,
			func(i int) bool { return row[i] != "" }, d.want,
			func(i int) string { return "answer_" + strconv.Itoa(i) })
		if err != nil {
			d.done = err
			return Query{}, err
		}
		if !ok {
			continue
		}
		q := Query{Index: d.policy.next, Line: line, Text: rec[d.query], Documents: docs}
		d.policy.next++
		return q, nil
	}
}

// read reads the next record and holds it to the row and field limits.
func (d *csvDataset) read() ([]string, error) {
	rec, err := d.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, d.wrap(err)
	}
	line, _ := d.r.FieldPos(0)
	end := d.r.InputOffset()
	if end-d.off > d.t.row.Max {
		return nil, d.t.rowError(line)
	}
	d.off = end
	field := d.policy.opts.Limits.field()
	for i, f := range rec {
		if int64(len(f)) > field.Max {
			line, col := d.r.FieldPos(i)
			return nil, &DatasetError{File: d.name, Line: line, Col: col, Err: field.Err()}
		}
	}
	d.t.startRow(d.br)
	return rec, nil
}

// wrap turns reader errors into DatasetErrors.
func (d *csvDataset) wrap(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		var de *DatasetError
		if errors.As(pe.Err, &de) {
			return de
		}
		return &DatasetError{File: d.name, Line: pe.Line, Col: pe.Column, Err: pe.Err}
	}
	var de *DatasetError
	if errors.As(err, &de) {
		return de
	}
	return fmt.Errorf("%s: %w", d.name, err)
}

// Warnings implements Warner.
func (d *csvDataset) Warnings() []string { return d.policy.warnings() }

// Close implements Dataset.
func (d *csvDataset) Close() error {
	d.done = errors.New("dataset closed")
	return closeAll(d.closers)
}

// shorten cuts s to n bytes at a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
