package workload

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"loadgen/loadgen/bounded"
)

// Query is one row of a dataset: a query and its candidate documents.
type Query struct {
	// Index is the query's 0-based position among the queries the dataset
	// yields (skipped rows do not count); it is Item.Query.
	Index int
	// Line is the 1-based line of the file where the row starts.
	Line int
	// Text is the query.
	Text string
	// Documents are the candidate documents, exactly SearchNum of them
	// when DatasetOptions.SearchNum is set (padded with "" under "pad").
	Documents []string
	// Relevant lists the indices of documents that answer the query, when
	// the row has labels (JSONL "relevant"): non-nil, possibly empty, for
	// a labelled row; nil for an unlabelled one.
	Relevant []int
}

// Short-row policies: what to do with a row that has fewer documents than
// DatasetOptions.SearchNum.
const (
	// ShortRowsError stops with an error naming file:line (the default).
	ShortRowsError = "error"
	// ShortRowsPad fills the missing documents with empty strings, so each
	// query still fans out into the same number of prompts.
	ShortRowsPad = "pad"
	// ShortRowsSkip drops the row; Warnings says how many were dropped.
	ShortRowsSkip = "skip"
)

// Limits of a dataset, the defaults of DatasetLimits. Every byte of a
// dataset passes through them, so that no file (a row without a newline, a
// gzip bomb) can grow memory without bound: past a limit, reading stops
// with an error naming file:line.
const (
	// DefaultMaxFieldBytes bounds one field: a query or a document. A
	// prompt holds max_length tokens of it (a few KiB), so a larger field
	// is most likely a broken file.
	DefaultMaxFieldBytes = 1 << 20
	// DefaultMaxRowBytes bounds one row, line ending included: a CSV
	// record (which may span lines inside quotes) or a JSONL line. A row
	// is held in memory while it is read.
	DefaultMaxRowBytes = 16 << 20
	// DefaultMaxDecompressedBytes bounds what a gzipped dataset
	// decompresses to: pre-flight reads the whole dataset once, and a small
	// file must not hold an endless one.
	DefaultMaxDecompressedBytes = 1 << 30
)

// DatasetLimits bound what a dataset may hold; zero takes the default.
// The settings name what raises each limit in messages (a profile key), ""
// for none.
type DatasetLimits struct {
	MaxField, MaxRow, MaxDecompressed             int64
	FieldSetting, RowSetting, DecompressedSetting string
}

// field, row and decompressed are the limits in force.
func (l DatasetLimits) field() bounded.Limit {
	return bounded.Limit{What: "the field", Max: orDefault(l.MaxField, DefaultMaxFieldBytes), Setting: l.FieldSetting}
}

func (l DatasetLimits) row() bounded.Limit {
	return bounded.Limit{What: "the row", Max: orDefault(l.MaxRow, DefaultMaxRowBytes), Setting: l.RowSetting}
}

func (l DatasetLimits) decompressed() bounded.Limit {
	return bounded.Limit{What: "the decompressed dataset", Max: orDefault(l.MaxDecompressed, DefaultMaxDecompressedBytes), Setting: l.DecompressedSetting}
}

func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// DatasetOptions say how rows become queries.
type DatasetOptions struct {
	// SearchNum is the number of documents per query (the offline
	// search_num). Longer rows are cut to it; shorter rows follow
	// ShortRows. Zero takes every document of a row (for CSV: every
	// answer_N column of the header).
	SearchNum int
	// ShortRows is ShortRowsError (or ""), ShortRowsPad or ShortRowsSkip.
	ShortRows string
	// Limits bound fields, rows and decompressed size.
	Limits DatasetLimits
}

func (o DatasetOptions) check() (DatasetOptions, error) {
	if o.SearchNum < 0 {
		return o, fmt.Errorf("search_num %d: must not be negative", o.SearchNum)
	}
	switch o.ShortRows {
	case "":
		o.ShortRows = ShortRowsError
	case ShortRowsError, ShortRowsPad, ShortRowsSkip:
	default:
		return o, fmt.Errorf("short rows policy %q: want %q, %q or %q",
			o.ShortRows, ShortRowsError, ShortRowsPad, ShortRowsSkip)
	}
	return o, nil
}

// Dataset yields queries one at a time, reading its file as a stream: a
// million-row file needs no more memory than one row. Next returns io.EOF
// after the last query; a dataset that holds no query at all returns an
// error instead. Errors name the file and line (and column where one is
// known) as file:line[:col]. A Dataset is not safe for concurrent use.
type Dataset interface {
	Next() (Query, error)
	Close() error
}

// Warner is implemented by datasets that have something to report once read,
// such as rows padded or skipped. The datasets of this package implement it.
type Warner interface {
	Warnings() []string
}

// Dataset formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// OpenDataset opens a dataset file. format is FormatCSV (the offline
// benchmark's query, answer_0 … answer_{n−1}) or FormatJSONL ({"query",
// "documents", optional "relevant"}), or "" to take it from the extension
// (.csv, .jsonl, .ndjson, each optionally .gz). A gzipped file is
// recognised by its content, whatever its name. The CLI resolves path
// relative to the profile first. The header of a CSV file is read and
// checked here.
func OpenDataset(path, format string, opts DatasetOptions) (Dataset, error) {
	if format == "" {
		var err error
		if format, _, err = FormatOf(path); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	ds, err := newDataset(f, path, format, opts, []io.Closer{f})
	if err != nil {
		f.Close()
		return nil, err
	}
	return ds, nil
}

// NewDataset reads a dataset from r, for files that are not on disk (an
// embedded fs.FS, a test), or that the caller reads itself. name is used in
// error messages; format is FormatCSV or FormatJSONL, or "" to take it from
// name's extension. Gzipped content is recognised and decompressed. Close
// does not close r.
func NewDataset(r io.Reader, name, format string, opts DatasetOptions) (Dataset, error) {
	if format == "" {
		f, _, err := FormatOf(name)
		if err != nil {
			return nil, err
		}
		format = f
	}
	return newDataset(r, name, format, opts, nil)
}

// gzipMagic starts every gzip stream (RFC 1952). No text dataset starts
// with it: 0x8b is not valid UTF-8 there.
var gzipMagic = []byte{0x1f, 0x8b}

// newDataset reads the dataset from r: decompressed when gzipped (up to
// the decompressed limit), then checked as text by a textReader (UTF-8,
// row limit), then parsed by the format's reader. closers are closed by
// the dataset's Close.
func newDataset(r io.Reader, name, format string, opts DatasetOptions, closers []io.Closer) (Dataset, error) {
	opts, err := opts.check()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if format != FormatCSV && format != FormatJSONL {
		return nil, fmt.Errorf("%s: dataset format %q: want %q or %q", name, format, FormatCSV, FormatJSONL)
	}
	br := bufio.NewReaderSize(r, textBufSize)
	r = br
	var zr *gzip.Reader
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		if zr, err = gzip.NewReader(br); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r = opts.Limits.decompressed().Reader(zr)
		closers = append([]io.Closer{zr}, closers...)
	}
	t := newTextReader(r, name, opts.Limits.row())
	if format == FormatJSONL {
		return newJSONLDataset(t, name, opts, closers), nil
	}
	ds, err := newCSVDataset(t, name, opts, closers)
	if err != nil {
		if zr != nil {
			zr.Close()
		}
		return nil, err
	}
	return ds, nil
}

// FormatOf maps a dataset file name to its format (FormatCSV for .csv,
// FormatJSONL for .jsonl and .ndjson) and whether it is gzipped (.gz after
// either). Profiles and the CLI use it, so every part of loadgen reads a
// file name the same way.
func FormatOf(name string) (format string, gz bool, err error) {
	base := strings.ToLower(filepath.Base(name))
	if strings.HasSuffix(base, ".gz") {
		gz = true
		base = strings.TrimSuffix(base, ".gz")
	}
	switch filepath.Ext(base) {
	case ".csv":
		return FormatCSV, gz, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, gz, nil
	}
	return "", false, fmt.Errorf("%s: unknown dataset format: want a .csv or .jsonl file", name)
}

// DatasetError is an error at a position of a dataset file. Its message reads
// file:line:col: message (file:line: when Col is 0).
type DatasetError struct {
	File      string
	Line, Col int
	Err       error
}

// Error formats the error as file:line:col: message.
func (e *DatasetError) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Col, e.Err)
}

// Unwrap returns the underlying error.
func (e *DatasetError) Unwrap() error { return e.Err }

var (
	errInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrEmptyDataset is returned (wrapped, with the file name) when a
	// dataset holds no query.
	ErrEmptyDataset = errors.New("dataset holds no queries")
)

// rowPolicy applies SearchNum and the short-row policy, and keeps the counts
// Warnings reports. Shared by the CSV and JSONL readers.
type rowPolicy struct {
	name                string
	opts                DatasetOptions
	next                int // Index of the next query
	padded, skipped     int
	firstPad, firstSkip int // line of the first padded/skipped row
}

// fit applies the policy to a row with docs (missing documents as absent
// indices: present[i] false). It returns ok=false when the row is skipped.
// want is the number of documents the row must have.
func (p *rowPolicy) fit(line int, docs []string, present func(i int) bool, want int, describe func(i int) string) (out []string, ok bool, err error) {
	missing := -1
	count := 0
	for i := 0; i < want; i++ {
		if i < len(docs) && present(i) {
			count++
		} else if missing < 0 {
			missing = i
		}
	}
	if missing < 0 {
		return docs[:want], true, nil
	}
	switch p.opts.ShortRows {
	case ShortRowsPad:
		if p.padded == 0 {
			p.firstPad = line
		}
		p.padded++
		out = make([]string, want)
		copy(out, docs)
		for i := range out {
			if i >= len(docs) || !present(i) {
				out[i] = ""
			}
		}
		return out, true, nil
	case ShortRowsSkip:
		if p.skipped == 0 {
			p.firstSkip = line
		}
		p.skipped++
		return nil, false, nil
	}
	return nil, false, &DatasetError{File: p.name, Line: line, Err: fmt.Errorf(
		"row has %d of %d documents (%s is missing); fix the row, lower search_num, or set the short-row policy to pad or skip",
		count, want, describe(missing))}
}

// warnings reports padded and skipped rows.
func (p *rowPolicy) warnings() []string {
	var w []string
	if p.padded > 0 {
		w = append(w, fmt.Sprintf("%s: padded %d row(s) with fewer than %d documents with empty documents (first at line %d)",
			p.name, p.padded, p.opts.SearchNum, p.firstPad))
	}
	if p.skipped > 0 {
		w = append(w, fmt.Sprintf("%s: skipped %d row(s) with fewer than %d documents (first at line %d)",
			p.name, p.skipped, p.opts.SearchNum, p.firstSkip))
	}
	return w
}

// end is called at the end of the input: io.EOF, or ErrEmptyDataset when no
// query was produced.
func (p *rowPolicy) end() error {
	if p.next > 0 {
		return io.EOF
	}
	if p.skipped > 0 {
		return fmt.Errorf("%s: %w (all %d rows were skipped as short)", p.name, ErrEmptyDataset, p.skipped)
	}
	return fmt.Errorf("%s: %w", p.name, ErrEmptyDataset)
}

func closeAll(closers []io.Closer) error {
	var errs []error
	for _, c := range closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
