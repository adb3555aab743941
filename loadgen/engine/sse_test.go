package engine

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"loadgen/loadgen/testkit"
)

func readEvents(t *testing.T, r io.Reader) ([]string, error) {
	t.Helper()
	return readEventsMax(t, r, DefaultMaxEventBytes)
}

func readEventsMax(t *testing.T, r io.Reader, max int) ([]string, error) {
	t.Helper()
	s := newSSEReader(r, max)
	var out []string
	for {
		d, err := s.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(d))
	}
}

func TestSSEReader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*sseBufSize)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one event", "data: a\n\n", []string{"a"}},                                       // the common case
		{"no space after colon", "data:a\n\n", []string{"a"}},                             // the space is optional
		{"only one space stripped", "data:  a\n\n", []string{" a"}},                       // per the SSE grammar
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}},                    // CRLF line ends
		{"multi-line data", "data: a\ndata: b\n\n", []string{"a\nb"}},                     // joined with LF
		{"comments ignored", ": ping\n\ndata: a\n\n", []string{"a"}},                      // keep-alive pings
		{"other fields ignored", "event: e\nid: 1\nretry: 5\ndata: a\n\n", []string{"a"}}, // event, id, retry
		{"blank lines between", "\n\n\ndata: a\n\n\n\ndata: b\n\n", []string{"a", "b"}},   // no empty events
		{"field without colon", "data\n\n", []string{""}},                                 // a data field, empty
		{"pending at eof", "data: a\n\ndata: b", []string{"a", "b"}},                      // vLLM's client accepts it
		{"pending line at eof", "data: a\n", []string{"a"}},                               // unterminated event
		{"empty", "", nil}, // nothing
		{"long line", "data: " + long + "\n\ndata: b\n\n", []string{long, "b"}}, // beyond the buffer
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readEvents(t, r)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestSSEReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom))
	got, err := readEvents(t, r)
	if !errors.Is(err, boom) || len(got) != 1 || got[0] != "a" {
		t.Errorf("got %q, %v; want [a] and the read error", got, err)
	}
}

// TestSSEReaderBounds checks that a line or an event longer than the bound
// is an error after which nothing more is read, and that a stream at the
// bound is read whole.
func TestSSEReaderBounds(t *testing.T) {
	t.Parallel()
	const max = 100
	long := strings.Repeat("x", 3*sseBufSize) // assembled across bufio buffers
	tests := []struct {
		name string
		in   string
		max  int
		want []string // events read before the error
		what string   // "line" or "event"; "" for no error
	}{
		// A line of exactly the bound is fine ("data: " included).
		{"line at the bound", "data: " + strings.Repeat("a", max-6) + "\n\n", max, []string{strings.Repeat("a", max-6)}, ""},
		// So is an event whose data (lines joined with LF) is the bound.
		{"event at the bound", strings.Repeat("data: "+strings.Repeat("e", 49)+"\n", 2) + "\n", max,
			[]string{strings.Repeat("e", 49) + "\n" + strings.Repeat("e", 49)}, ""},
		// One byte more in a data line: the line is over.
		{"line over", "data: a\n\ndata: " + strings.Repeat("a", max-5) + "\n\ndata: c\n\n", max, []string{"a"}, "line"},
		// A comment line counts too: every line is buffered.
		{"comment over", ":" + strings.Repeat("c", max) + "\ndata: a\n\n", max, nil, "line"},
		// Short lines that add up to more than the bound in one event.
		{"event over", strings.Repeat("data: "+strings.Repeat("e", 40)+"\n", 3) + "\n", max, nil, "event"},
		// A line past the bufio buffer is cut off while it is assembled.
		{"long line over", "data: " + long + "\n\n", 2 * sseBufSize, nil, "line"},
		// An unterminated line at the end of the body is bounded as well.
		{"pending line over", "data: " + strings.Repeat("p", max), max, nil, "line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readEventsMax(t, r, tc.max)
				if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
					t.Errorf("got %q, want %q", got, tc.want)
				}
				var big *tooLargeError
				switch {
				case tc.what == "" && err != nil:
					t.Errorf("error %v, want none", err)
				case tc.what != "" && (!errors.As(err, &big) || big.what != tc.what || big.limit != tc.max):
					t.Errorf("error %v, want an SSE %s over %d bytes", err, tc.what, tc.max)
				}
			}
		})
	}
}

// TestSSEReaderLongLineMemory checks that a line far longer than the bound
// (16×) is not buffered beyond it: the reader stops within a bufio buffer
// of the bound.
func TestSSEReaderLongLineMemory(t *testing.T) {
	t.Parallel()
	const max = 1 << 20
	line := io.MultiReader(strings.NewReader("data: "), io.LimitReader(testkit.Endless('x'), 16*max))
	s := newSSEReader(line, max)
	_, err := s.next()
	var big *tooLargeError
	if !errors.As(err, &big) {
		t.Fatalf("error %v, want an SSE line over %d bytes", err, max)
	}
	if c := cap(s.line); c > 3*max {
		t.Errorf("line buffer grew to %d bytes for a bound of %d", c, max)
	}
	if _, err := s.next(); err != io.EOF {
		t.Errorf("after the error: %v, want io.EOF (nothing more is read)", err)
	}
	s.reset(nil, max)
	if s.line != nil {
		t.Errorf("a pooled reader keeps a %d-byte line buffer", cap(s.line))
	}
}

// FuzzSSEReader checks that arbitrary bytes never panic the reader, and
// that any list of payloads written as SSE is read back intact.
func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("data: a\n\ndata: b\n\n"), []byte("x\x00y"))
	f.Add([]byte(": c\r\n\r\ndata:\r\n\r\n"), []byte("[DONE]"))
	f.Add([]byte("data"), []byte(""))
	f.Fuzz(func(t *testing.T, raw, payloads []byte) {
		_, _ = readEvents(t, bytes.NewReader(raw))

		// Round trip: payloads split on NUL, without line breaks.
		var want []string
		var enc strings.Builder
		for _, p := range bytes.Split(payloads, []byte{0}) {
			p = bytes.Map(func(r rune) rune {
				if r == '\n' || r == '\r' {
					return -1
				}
				return r
			}, p)
			want = append(want, string(p))
			enc.WriteString("data: " + string(p) + "\n\n")
		}
		got, err := readEvents(t, strings.NewReader(enc.String()))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d events, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("event %d: got %q, want %q", i, got[i], want[i])
			}
		}
	})
}
