package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// jsonlRow is one JSONL line. Unknown keys are ignored.
type jsonlRow struct {
	Query     *string   `json:"query"`
	Documents *[]string `json:"documents"`
	Relevant  []int     `json:"relevant"`
}

// jsonlDataset reads one JSON object per line: {"query": "...",
// "documents": ["...", ...], "relevant": [0, 3]} ("relevant" optional).
// Blank lines are skipped.
type jsonlDataset struct {
	t       *textReader
	r       *bufio.Reader
	name    string
	line    int
	buf     []byte
	policy  rowPolicy
	closers []io.Closer
	done    error
}

func newJSONLDataset(t *textReader, name string, opts DatasetOptions, closers []io.Closer) *jsonlDataset {
	return &jsonlDataset{
		t:       t,
		r:       bufio.NewReaderSize(t, textBufSize),
		name:    name,
		policy:  rowPolicy{name: name, opts: opts},
		closers: closers,
	}
}

// readLine returns the next line without its line ending; the slice is valid
// until the next call. A line is a row: it is held to the row limit.
func (d *jsonlDataset) readLine() ([]byte, error) {
	d.buf = d.buf[:0]
	defer d.t.startRow(d.r)
	for {
		chunk, err := d.r.ReadSlice('\n')
		if int64(len(d.buf)+len(chunk)) > d.t.row.Max {
			return nil, d.t.rowError(d.line + 1)
		}
		if err == bufio.ErrBufferFull {
			d.buf = append(d.buf, chunk...)
			continue
		}
		if err == io.EOF && len(chunk)+len(d.buf) == 0 {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		var line []byte
		if len(d.buf) > 0 {
			d.buf = append(d.buf, chunk...)
			line = d.buf
		} else {
			line = chunk
		}
		d.line++
		line = bytes.TrimSuffix(line, []byte{'\n'})
		return bytes.TrimSuffix(line, []byte{'\r'}), nil
	}
}

// Next implements Dataset.
func (d *jsonlDataset) Next() (Query, error) {
	if d.done != nil {
		return Query{}, d.done
	}
	for {
		q, ok, err := d.next()
		if err != nil {
			d.done = err
			return Query{}, err
		}
		if ok {
			return q, nil
		}
	}
}

// next reads one line; ok is false for a blank or skipped line.
func (d *jsonlDataset) next() (q Query, ok bool, err error) {
	line, err := d.readLine()
	if err == io.EOF {
		return q, false, d.policy.end()
	}
	if err != nil {
		var de *DatasetError
		if errors.As(err, &de) {
			return q, false, de
		}
		return q, false, fmt.Errorf("%s:%d: %w", d.name, d.line+1, err)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return q, false, nil
	}
	var row jsonlRow
	if err := json.Unmarshal(line, &row); err != nil {
		return q, false, d.jsonError(line, err)
	}
	if row.Query == nil {
		return q, false, d.errorf("missing \"query\"")
	}
	if *row.Query == "" {
		return q, false, d.errorf("empty query")
	}
	if row.Documents == nil {
		return q, false, d.errorf("missing \"documents\"")
	}
	docs := *row.Documents
	if field := d.policy.opts.Limits.field(); int64(len(*row.Query)) > field.Max {
		return q, false, d.errorf("query: %w", field.Err())
	} else if i := slices.IndexFunc(docs, func(doc string) bool { return int64(len(doc)) > field.Max }); i >= 0 {
		return q, false, d.errorf("documents[%d]: %w", i, field.Err())
	}
	if err := checkRelevant(row.Relevant, len(docs)); err != nil {
		return q, false, d.errorf("relevant: %v", err)
	}
	want := d.policy.opts.SearchNum
	if want == 0 {
		want = len(docs)
	}
	docs, ok, err = d.policy.fit(d.line, docs, func(int) bool { return true }, want,
		func(i int) string { return "documents[" + strconv.Itoa(i) + "]" })
	if err != nil || !ok {
		return q, false, err
	}
	q = Query{Index: d.policy.next, Line: d.line, Text: *row.Query, Documents: docs, Relevant: cutRelevant(row.Relevant, want)}
	d.policy.next++
	return q, true, nil
}

// checkRelevant rejects indices out of range and duplicates.
func checkRelevant(rel []int, n int) error {
	for i, r := range rel {
		if r < 0 || r >= n {
			return fmt.Errorf("index %d out of range (the row has %d documents)", r, n)
		}
		for _, s := range rel[:i] {
			if s == r {
				return fmt.Errorf("index %d listed twice", r)
			}
		}
	}
	return nil
}

// cutRelevant drops the indices of documents beyond the first n, which are
// not candidates of the query. It returns a non-nil slice when rel is
// non-nil, so that "labelled, none relevant" stays distinct from unlabelled.
func cutRelevant(rel []int, n int) []int {
	if rel == nil {
		return nil
	}
	out := make([]int, 0, len(rel))
	for _, r := range rel {
		if r < n {
			out = append(out, r)
		}
	}
	return out
}

// jsonError places a JSON error on the line, with a column where the decoder
// gives an offset.
func (d *jsonlDataset) jsonError(line []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DatasetError{File: d.name, Line: d.line, Col: int(max(se.Offset, 1)), Err: errors.New(msg)}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// The decoder's offset is just past a bad scalar, or just past
		// the opening bracket of a bad array or object: the column of
		// its last byte or its bracket.
		col := int(te.Offset)
		if col < 1 || col > len(line) {
			col = 0
		}
		field := te.Field
		if field == "" {
			field = "line"
		}
		return &DatasetError{File: d.name, Line: d.line, Col: col,
			Err: fmt.Errorf("%s: want %s, got %s", field, jsonTypeName(te.Field), te.Value)}
	}
	return &DatasetError{File: d.name, Line: d.line, Err: errors.New(msg)}
}

// jsonTypeName names what a field of jsonlRow holds.
func jsonTypeName(field string) string {
	switch {
	case field == "query":
		return "a string"
	case strings.HasPrefix(field, "documents"):
		return "a list of strings"
	case strings.HasPrefix(field, "relevant"):
		return "a list of document indices"
	}
	return "an object {\"query\", \"documents\", \"relevant\"}"
}

func (d *jsonlDataset) errorf(format string, args ...any) error {
	return &DatasetError{File: d.name, Line: d.line, Err: fmt.Errorf(format, args...)}
}

// Warnings implements Warner.
func (d *jsonlDataset) Warnings() []string { return d.policy.warnings() }

// Close implements Dataset.
func (d *jsonlDataset) Close() error {
	d.done = errors.New("dataset closed")
	return closeAll(d.closers)
}
