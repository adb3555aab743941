package engine

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readEvents(t *testing.T, r io.Reader) ([]string, error) {
	t.Helper()
	s := newSSEReader(r)
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
