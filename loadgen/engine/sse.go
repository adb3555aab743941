package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// sseReader reads Server-Sent Events and returns the data of each event.
// It follows the SSE grammar as far as a completions stream needs: lines end
// in LF or CRLF; a blank line ends an event; lines starting with ':' are
// comments; "data:" lines (one optional space after the colon) are joined
// with LF; other fields (event, id, retry) are ignored. Data pending when the
// body ends is returned as a last event, as vLLM's own client does.
//
// A line and an event's data are each bounded by max bytes: past it, next
// returns a *tooLargeError and reads no further, so a misbehaving server
// costs at most that much memory per request.
//
// It is the lean alternative to a generic SSE library: one pooled bufio
// reader, one reused data buffer, no allocation per event.
type sseReader struct {
	br   *bufio.Reader
	data []byte // data of the current event
	line []byte // a line longer than the bufio buffer
	max  int    // bound on a line and on an event's data
	has  bool   // the current event has a data field
	eof  bool
}

// sseBufSize is the bufio buffer size; longer lines are assembled in line.
const sseBufSize = 16 << 10

// sseKeepSize is the largest buffer a pooled reader keeps between requests.
const sseKeepSize = 64 << 10

// tooLargeError reports an SSE line or event's data over the reader's bound.
type tooLargeError struct {
	what  string // "line" or "event"
	limit int
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("SSE %s longer than %d bytes (Options.MaxEventBytes)", e.what, e.limit)
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, sseBufSize), max: max}
}

// reset points s at a new body with a new bound, keeping its buffers unless
// a large event made them large.
func (s *sseReader) reset(r io.Reader, max int) {
	s.br.Reset(r)
	if cap(s.data) > sseKeepSize {
		s.data = nil
	}
	if cap(s.line) > sseKeepSize {
		s.line = nil
	}
	s.data, s.line, s.max, s.has, s.eof = s.data[:0], s.line[:0], max, false, false
}

// next returns the data of the next event. The slice is valid until the
// next call. At the end of the body it returns io.EOF; a read error is
// returned as is.
func (s *sseReader) next() ([]byte, error) {
	for {
		if s.eof {
			return nil, io.EOF
		}
		line, err := s.readLine()
		if err != nil {
			if err != io.EOF {
				return nil, err
			}
			s.eof = true
			if len(line) > 0 {
				if err := s.field(line); err != nil {
					return nil, err
				}
			}
			if s.has {
				return s.take(), nil
			}
			return nil, io.EOF
		}
		if len(line) == 0 {
			if s.has {
				return s.take(), nil
			}
			continue
		}
		if err := s.field(line); err != nil {
			return nil, err
		}
	}
}

// take returns the event's data and starts a new event.
func (s *sseReader) take() []byte {
	s.has = false
	d := s.data
	if n := len(d); n > 0 && d[n-1] == '\n' {
		d = d[:n-1]
	}
	s.data = s.data[:0]
	return d
}

// field applies one non-blank line to the current event.
func (s *sseReader) field(line []byte) error {
	if line[0] == ':' {
		return nil // comment
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	if string(name) != "data" {
		return nil
	}
	if len(s.data)+len(value) > s.max {
		s.eof = true
		return &tooLargeError{"event", s.max}
	}
	s.data = append(s.data, value...)
	s.data = append(s.data, '\n')
	s.has = true
	return nil
}

// readLine returns the next line without its LF or CRLF. At the end of the
// body it returns the unterminated remainder with io.EOF.
func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(s.line) > s.max {
				s.eof = true
				return nil, &tooLargeError{"line", s.max}
			}
			line, err = s.br.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
		line, err = line[:n], nil
	} else if err == nil {
		err = io.EOF
	}
	if len(line) > s.max {
		s.eof = true
		return nil, &tooLargeError{"line", s.max}
	}
	return line, err
}
