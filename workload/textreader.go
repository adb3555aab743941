package workload

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"loadgen/loadgen/bounded"
)

// textReader passes a dataset file through, dropping a leading UTF-8 byte
// order mark and failing at the first invalid UTF-8 byte with its line and
// column. Checking the raw bytes rather than the parsed fields gives exact
// positions even inside quoted, multi-line CSV fields, and catches what
// encoding/json would silently replace with U+FFFD.
//
// Columns are 1-based byte offsets within the line, as Go tools count them.
//
// It also bounds the row being read, so that a row without end (a file
// without newlines, a gzip bomb) cannot grow memory: the reader of the rows
// (CSV, JSONL) reads it through a bufio.Reader of textBufSize bytes and
// calls startRow at every row, and Read fails once the current row would
// exceed the row limit by more than that buffer (what the bufio.Reader may
// hold of the rows after it). The readers check the exact size of each row
// themselves, with the same message (rowError).
type textReader struct {
	r       io.Reader
	name    string
	started bool
	line    int    // line of the next byte passed on
	col     int    // column of the next byte passed on
	pending []byte // an incomplete rune held back for the next Read
	err     error  // sticky error

	row     bounded.Limit // the row limit
	out     int64         // bytes passed on
	rowLine int           // line where the current row starts
	rowEnd  int64         // Read fails past this many bytes passed on

	scratch [64]byte // for reads into buffers too small for a rune
	ready   []byte   // checked bytes of scratch not handed out yet
}

// textBufSize is the size of the bufio.Reader the row readers put over a
// textReader.
const textBufSize = 64 << 10

func newTextReader(r io.Reader, name string, row bounded.Limit) *textReader {
	return &textReader{r: r, name: name, line: 1, col: 1, row: row, rowLine: 1, rowEnd: row.Max + textBufSize}
}

// startRow marks the start of the next row: the reader br (over t) has
// consumed the rows before it.
func (t *textReader) startRow(br *bufio.Reader) {
	ahead, _ := br.Peek(br.Buffered())
	t.rowLine = t.line - bytes.Count(ahead, []byte{'\n'})
	t.rowEnd = t.out - int64(len(ahead)) + t.row.Max + textBufSize
}

// rowError is the error of a row larger than the row limit, starting at
// line.
func (t *textReader) rowError(line int) error {
	return &DatasetError{File: t.name, Line: line, Err: t.row.Err()}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Read implements io.Reader.
func (t *textReader) Read(p []byte) (int, error) {
	if len(t.ready) > 0 {
		n := copy(p, t.ready)
		t.ready = t.ready[n:]
		return n, nil
	}
	if len(p) >= utf8.UTFMax {
		return t.read(p)
	}
	// Too small to hold back a partial rune (a bufio.Reader's last free
	// bytes): read into scratch and hand the bytes out from there.
	n, err := t.read(t.scratch[:])
	m := copy(p, t.scratch[:n])
	t.ready = t.scratch[m:n]
	return m, err
}

// read is Read into a buffer of at least utf8.UTFMax bytes.
func (t *textReader) read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n := copy(p, t.pending)
	t.pending = t.pending[:0]
	for {
		m, err := t.r.Read(p[n:])
		n += m
		if errors.Is(err, bounded.ErrTooLarge) {
			// The decompressed size: where it ran out.
			err = &DatasetError{File: t.name, Line: t.line, Err: err}
		}
		if err != nil {
			t.err = err
			break
		}
		if m == 0 || t.started || n >= len(bom) {
			break
		}
	}
	if !t.started {
		if n < len(bom) && t.err == nil && bytes.HasPrefix(bom, p[:n]) {
			// Maybe a BOM still arriving: wait for more.
			t.pending = append(t.pending, p[:n]...)
			return 0, nil
		}
		t.started = true
		if bytes.HasPrefix(p[:n], bom) {
			n = copy(p, p[len(bom):n])
		}
	}
	valid, hold := t.check(p[:n])
	if hold > 0 && t.err == nil {
		t.pending = append(t.pending, p[valid:valid+hold]...)
	}
	if t.out+int64(valid) > t.rowEnd {
		valid = int(max(t.rowEnd-t.out, 0))
		hold = 0
		t.err = t.rowError(t.rowLine)
		t.advance(p[:valid])
		if valid == 0 {
			return 0, t.err
		}
		return valid, nil
	}
	t.advance(p[:valid])
	if valid+hold < n || (hold > 0 && t.err != nil) {
		t.err = &DatasetError{File: t.name, Line: t.line, Col: t.col, Err: errInvalidUTF8}
		return valid, nil
	}
	if valid == 0 && t.err != nil {
		return 0, t.err
	}
	return valid, nil
}

// check returns the length of the valid prefix of b and the length of an
// incomplete rune right after it (held back until more bytes arrive).
func (t *textReader) check(b []byte) (valid, hold int) {
	if utf8.Valid(b) {
		return len(b), 0
	}
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRune(b[i:]) {
				return i, len(b) - i
			}
			return i, 0
		}
		i += size
	}
	return i, 0
}

// advance moves the position past b.
func (t *textReader) advance(b []byte) {
	t.out += int64(len(b))
	nl := bytes.Count(b, []byte{'\n'})
	if nl == 0 {
		t.col += len(b)
		return
	}
	t.line += nl
	t.col = len(b) - bytes.LastIndexByte(b, '\n')
}
