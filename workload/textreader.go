package workload

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// textReader passes a dataset file through, dropping a leading UTF-8 byte
// order mark and failing at the first invalid UTF-8 byte with its line and
// column. Checking the raw bytes rather than the parsed fields gives exact
// positions even inside quoted, multi-line CSV fields, and catches what
// encoding/json would silently replace with U+FFFD.
//
// Columns are 1-based byte offsets within the line, as Go tools count them.
type textReader struct {
	r       io.Reader
	name    string
	started bool
	line    int    // line of the next byte passed on
	col     int    // column of the next byte passed on
	pending []byte // an incomplete rune held back for the next Read
	err     error  // sticky error
}

func newTextReader(r io.Reader, name string) *textReader {
	return &textReader{r: r, name: name, line: 1, col: 1}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Read implements io.Reader.
func (t *textReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if len(p) < utf8.UTFMax {
		// Too small to hold back a partial rune; callers here use
		// bufio-sized buffers, so this only guards misuse.
		return 0, fmt.Errorf("%s: read buffer of %d bytes is too small", t.name, len(p))
	}
	n := copy(p, t.pending)
	t.pending = t.pending[:0]
	for {
		m, err := t.r.Read(p[n:])
		n += m
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
	nl := bytes.Count(b, []byte{'\n'})
	if nl == 0 {
		t.col += len(b)
		return
	}
	t.line += nl
	t.col = len(b) - bytes.LastIndexByte(b, '\n')
}
