package engine

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseReader reads Server-Sent Events and returns the data of each event.
// It follows the SSE grammar as far as a completions stream needs: lines end
// in LF or CRLF; a blank line ends an event; lines starting with ':' are
// comments; "data:" lines (one optional space after the colon) are joined
// with LF; other fields (event, id, retry) are ignored. Data pending when the
// body ends is returned as a last event, as vLLM's own client does.
//
// It is the lean alternative to a generic SSE library: one pooled bufio
// reader, one reused data buffer, no allocation per event.
type sseReader struct {
	br   *bufio.Reader
	data []byte // data of the current event
	line []byte // a line longer than the bufio buffer
	has  bool   // the current event has a data field
	eof  bool
}

// sseBufSize is the bufio buffer size; longer lines are assembled in line.
const sseBufSize = 16 << 10

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, sseBufSize)}
}

// reset points s at a new body, keeping its buffers.
func (s *sseReader) reset(r io.Reader) {
	s.br.Reset(r)
	s.data, s.line, s.has, s.eof = s.data[:0], s.line[:0], false, false
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
				s.field(line)
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
		s.field(line)
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
func (s *sseReader) field(line []byte) {
	if line[0] == ':' {
		return // comment
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	if string(name) != "data" {
		return
	}
	s.data = append(s.data, value...)
	s.data = append(s.data, '\n')
	s.has = true
}

// readLine returns the next line without its LF or CRLF. At the end of the
// body it returns the unterminated remainder with io.EOF.
func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
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
		return line[:n], nil
	}
	if err == nil {
		err = io.EOF
	}
	return line, err
}
