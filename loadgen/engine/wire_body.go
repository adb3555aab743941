package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// readHead reads a response's status line and headers, skipping
// informational (1xx) responses, and frames its body (RFC 9112 §6.3):
// chunked when the last transfer coding is chunked, else Content-Length
// bytes, else until the connection closes; none for 204 and 304.
func (c *wireConn) readHead() error {
	var size, lines int
	line := func() ([]byte, error) {
		l, err := c.br.ReadSlice('\n')
		c.got += len(l)
		size += len(l)
		lines++
		if errors.Is(err, bufio.ErrBufferFull) || size > maxHeadBytes || lines > maxHeadLines {
			return nil, errHeadTooLarge
		}
		if err != nil {
			if err == io.EOF && c.got > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return bytes.TrimRight(l, "\r\n"), nil
	}
	for {
		l, err := line()
		if err != nil {
			return err
		}
		minor, code, ok := parseStatusLine(l)
		if !ok {
			return fmt.Errorf("malformed HTTP status line %q", clip(string(l)))
		}
		b := wireBody{c: c, length: -1, keep: minor >= 1}
		var te, cl []byte
		for {
			h, err := line()
			if err != nil {
				return err
			}
			if len(h) == 0 {
				break
			}
			name, value, ok := bytes.Cut(h, []byte(":"))
			if !ok {
				return fmt.Errorf("malformed HTTP header line %q", clip(string(h)))
			}
			value = bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				te = value
			case bytes.EqualFold(name, []byte("Content-Length")):
				if cl != nil && !bytes.Equal(cl, value) {
					return errors.New("conflicting Content-Length headers")
				}
				cl = value
			case bytes.EqualFold(name, []byte("Connection")):
				for _, opt := range bytes.Split(value, []byte(",")) {
					switch opt = bytes.TrimSpace(opt); {
					case bytes.EqualFold(opt, []byte("close")):
						b.keep = false
					case bytes.EqualFold(opt, []byte("keep-alive")) && minor == 0:
						b.keep = true
					}
				}
			}
		}
		if code >= 100 && code < 200 && code != 101 {
			continue // informational: the response follows
		}
		c.status = code
		switch {
		case code == 204 || code == 304 || code == 101:
			b.length, b.done = 0, true
			b.keep = b.keep && code != 101
		case te != nil:
			codings := bytes.Split(te, []byte(","))
			if !bytes.EqualFold(bytes.TrimSpace(codings[len(codings)-1]), []byte("chunked")) {
				b.keep = false // read until close
				break
			}
			b.chunked = true
			if cl != nil {
				b.keep = false // both: Transfer-Encoding wins, the connection is suspect
			}
		case cl != nil:
			n, err := strconv.ParseInt(string(cl), 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("malformed Content-Length %q", clip(string(cl)))
			}
			b.length, b.done = n, n == 0
		default:
			b.keep = false // read until close
		}
		c.body = b
		return nil
	}
}

// parseStatusLine reads "HTTP/1.x NNN reason".
func parseStatusLine(l []byte) (minor, code int, ok bool) {
	if len(l) < 12 || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' || (len(l) > 12 && l[12] != ' ') {
		return 0, 0, false
	}
	if l[7] < '0' || l[7] > '9' {
		return 0, 0, false
	}
	for _, d := range l[9:12] {
		if d < '0' || d > '9' {
			return 0, 0, false
		}
		code = code*10 + int(d-'0')
	}
	return int(l[7] - '0'), code, code >= 100
}

// wireBody reads a response body from its connection.
type wireBody struct {
	c       *wireConn
	chunked bool
	length  int64 // bytes left: of the body (not chunked), or of the current chunk; −1 until close
	keep    bool  // the connection may serve another request once the body is read
	done    bool  // the body was read to its end
	err     error // a framing or read error, returned from then on
}

// reusable reports whether the connection may serve another request.
func (b *wireBody) reusable() bool { return b.keep && b.done && b.err == nil }

// Read implements io.Reader.
func (b *wireBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if b.chunked && b.length <= 0 {
		if err := b.nextChunk(); err != nil {
			b.err = err
			return 0, err
		}
		if b.done {
			return 0, io.EOF
		}
	}
	if b.length >= 0 && int64(len(p)) > b.length {
		p = p[:b.length]
	}
	n, err := b.c.br.Read(p)
	b.c.got += n
	if b.length >= 0 {
		b.length -= int64(n)
		if err == io.EOF && b.length > 0 {
			err = io.ErrUnexpectedEOF
		}
		if b.length == 0 && !b.chunked {
			b.done = true
		}
	}
	switch {
	case err == io.EOF && b.length < 0:
		b.done = true // delimited by the close
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// nextChunk reads the CRLF ending the previous chunk (if any) and the next
// chunk's size line; after the last chunk it reads the trailer section.
func (b *wireBody) nextChunk() error {
	br := b.c.br
	if b.length == 0 { // the end of a chunk's data
		if err := b.crlf(); err != nil {
			return err
		}
	}
	line, err := br.ReadSlice('\n')
	b.c.got += len(line)
	if err != nil {
		return chunkErr(err)
	}
	line = bytes.TrimRight(line, "\r\n")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions are ignored
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return errors.New("malformed chunk size")
	}
	size, err := strconv.ParseUint(string(line), 16, 64)
	if err != nil {
		return errors.New("malformed chunk size")
	}
	if size > 0 {
		b.length = int64(size)
		return nil
	}
	for n := 0; ; n++ { // trailer fields, up to an empty line
		t, err := br.ReadSlice('\n')
		b.c.got += len(t)
		if err != nil {
			return chunkErr(err)
		}
		if len(bytes.TrimRight(t, "\r\n")) == 0 {
			break
		}
		if n >= maxHeadLines {
			return errHeadTooLarge
		}
	}
	b.length, b.done = 0, true
	return nil
}

// crlf reads the line break after a chunk's data.
func (b *wireBody) crlf() error {
	c, err := b.c.br.ReadByte()
	if err == nil && c == '\r' {
		c, err = b.c.br.ReadByte()
	}
	if err != nil {
		return chunkErr(err)
	}
	if c != '\n' {
		return errors.New("malformed chunked encoding: no line break after a chunk")
	}
	b.length = -1
	return nil
}

// chunkErr turns a read error inside the chunked framing into a cut body.
func chunkErr(err error) error {
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return errors.New("malformed chunked encoding: line too long")
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	}
	return err
}
