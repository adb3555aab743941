package bounded

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrTooLarge is what every *Error matches with errors.Is.
var ErrTooLarge = errors.New("input larger than its limit")

// Limit bounds one kind of input.
type Limit struct {
	// What names the input in messages: "profile rerank.yaml", "GET
	// /metrics response body".
	What string
	// Max is the most bytes the input may hold; past it, reads fail
	// with an *Error. Zero or less means no input at all is accepted.
	Max int64
	// Setting names what raises the limit ("workload.max_row_size"), or
	// "" when it is fixed.
	Setting string
}

// Error is an input larger than its limit.
type Error struct {
	Limit Limit
}

// Error reads "<what> is larger than <max>[; raise <setting>]".
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s is larger than %s", e.Limit.What, Size(e.Limit.Max))
	if e.Limit.Setting != "" {
		msg += " (the limit; raise it with " + e.Limit.Setting + ")"
	} else {
		msg += ", loadgen's limit"
	}
	return msg
}

// Is matches ErrTooLarge.
func (e *Error) Is(target error) bool { return target == ErrTooLarge }

// Err returns the *Error of this limit.
func (l Limit) Err() error { return &Error{Limit: l} }

// Reader returns r bounded: once more than Max bytes have been read from
// it, Read fails with the limit's *Error (the bytes up to Max are passed
// on first).
func (l Limit) Reader(r io.Reader) io.Reader {
	return &reader{r: r, l: l, left: l.Max}
}

// ReadCloser is Reader for an io.ReadCloser; Close closes rc.
func (l Limit) ReadCloser(rc io.ReadCloser) io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{l.Reader(rc), rc}
}

// ReadAll reads r to its end, or fails with the limit's *Error once it
// holds more than Max bytes. It never holds more than Max+1 bytes.
func (l Limit) ReadAll(r io.Reader) ([]byte, error) {
	return io.ReadAll(l.Reader(r))
}

// reader counts down the bytes still allowed. It reads one byte past the
// limit to tell an input of exactly Max bytes from a longer one.
type reader struct {
	r    io.Reader
	l    Limit
	left int64 // bytes still allowed; -1 once the limit was passed
	err  error
}

func (b *reader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > b.left+1 {
		p = p[:max(b.left+1, 1)]
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		n, b.left = int(max(b.left, 0)), -1
		b.err = b.l.Err()
		if n == 0 {
			return 0, b.err
		}
		return n, nil
	}
	b.left -= int64(n)
	return n, err
}

// Quote reads at most n bytes of r to quote in a message (an error
// response's body): trimmed, with "…" marking a cut. It reads no more than
// n+1 bytes, so an endless body cannot stall or grow it.
func Quote(r io.Reader, n int) string {
	b, _ := io.ReadAll(io.LimitReader(r, int64(n)+1))
	if len(b) <= n {
		return strings.TrimSpace(strings.ToValidUTF8(string(b), "�"))
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b[:n]), "")) + "…"
}

// Size renders a byte count exactly, in the largest unit that holds it to
// a tenth: "512 B", "64 KiB", "16 MiB", "1.5 GiB", "2000 B".
func Size(n int64) string {
	units := []string{"TiB", "GiB", "MiB", "KiB"}
	for i, u := range units {
		unit := int64(1) << (10 * (len(units) - i))
		if n >= unit && n <= math.MaxInt64/10 && n*10%unit == 0 {
			return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/float64(unit)), ".0") + " " + u
		}
	}
	return fmt.Sprintf("%d B", n)
}
