package bounded

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"loadgen/loadgen/testkit"
)

func TestReadAll(t *testing.T) {
	lim := Limit{What: "profile p.yaml", Max: 10, Setting: "--max"}
	tests := []struct {
		name    string
		in      io.Reader
		want    string
		tooLong bool
	}{
		// Shorter than the limit: read whole.
		{"short", strings.NewReader("abc"), "abc", false},
		// Exactly the limit: accepted.
		{"exact", strings.NewReader("0123456789"), "0123456789", false},
		// One byte more: refused.
		{"one more", strings.NewReader("0123456789a"), "", true},
		// An endless input ends in the error, not in memory.
		{"endless", testkit.Endless('x'), "", true},
		// One byte at a time reaches the same verdicts.
		{"one byte reads", iotest.OneByteReader(strings.NewReader("0123456789a")), "", true},
		{"one byte reads, exact", iotest.OneByteReader(strings.NewReader("0123456789")), "0123456789", false},
		// Empty input.
		{"empty", strings.NewReader(""), "", false},
	}
	for _, tc := range tests {
		b, err := lim.ReadAll(tc.in)
		switch {
		case tc.tooLong && !errors.Is(err, ErrTooLarge):
			t.Errorf("%s: err %v, want ErrTooLarge", tc.name, err)
		case !tc.tooLong && (err != nil || string(b) != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.name, b, err, tc.want)
		case tc.tooLong && len(b) > int(lim.Max):
			t.Errorf("%s: passed on %d bytes, more than the limit %d", tc.name, len(b), lim.Max)
		}
	}
}

// TestErrorMessage: the error names the input, the limit and the setting.
func TestErrorMessage(t *testing.T) {
	tests := []struct {
		l    Limit
		want string
	}{
		// A limit a user can raise names the setting.
		{Limit{What: "row", Max: 16 << 20, Setting: "workload.max_row_size"}, "row is larger than 16 MiB (the limit; raise it with workload.max_row_size)"},
		// A fixed limit says so.
		{Limit{What: "profile p.yaml", Max: 1 << 20}, "profile p.yaml is larger than 1 MiB, loadgen's limit"},
	}
	for _, tc := range tests {
		_, err := tc.l.ReadAll(testkit.Endless('x'))
		var be *Error
		if !errors.As(err, &be) || err.Error() != tc.want {
			t.Errorf("error %q, want %q", err, tc.want)
		}
	}
}

// TestReaderPassesLimit: the bytes up to the limit are passed on before
// the error, and the error sticks.
func TestReaderPassesLimit(t *testing.T) {
	r := Limit{What: "x", Max: 5}.Reader(strings.NewReader("0123456789"))
	buf := make([]byte, 100)
	n, err := r.Read(buf)
	if n != 5 || err != nil || string(buf[:n]) != "01234" {
		t.Fatalf("first read %d %q %v, want the 5 bytes allowed", n, buf[:n], err)
	}
	for i := 0; i < 2; i++ {
		if n, err := r.Read(buf); n != 0 || !errors.Is(err, ErrTooLarge) {
			t.Fatalf("read %d: %d, %v; want ErrTooLarge", i, n, err)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		// Short bodies are quoted whole, trimmed.
		{" oops \n", 10, "oops"},
		// A long body is cut and marked.
		{"0123456789abc", 10, "0123456789…"},
		// A cut inside a rune drops the broken rune.
		{"ééééé", 3, "é…"},
	}
	for _, tc := range tests {
		if got := Quote(strings.NewReader(tc.in), tc.n); got != tc.want {
			t.Errorf("Quote(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := Quote(testkit.Endless('x'), 4); got != "xxxx…" {
		t.Errorf("Quote(endless) = %q", got)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 512: "512 B", 64 << 10: "64 KiB", 16 << 20: "16 MiB", 3 << 29: "1.5 GiB", 4 << 30: "4 GiB", 2000: "2000 B", 1025: "1025 B"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzReader: whatever the input and the read sizes, the reader passes on
// exactly the input when it fits, and otherwise its first Max bytes and
// ErrTooLarge.
func FuzzReader(f *testing.F) {
	f.Add([]byte("hello world"), int64(5), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, max int64, chunk uint8) {
		if max < 0 || max > 1<<16 {
			return
		}
		var out bytes.Buffer
		r := Limit{What: "x", Max: max}.Reader(bytes.NewReader(in))
		buf := make([]byte, int(chunk)+1)
		var err error
		for {
			var n int
			n, err = r.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if int64(len(in)) <= max {
			if err != io.EOF || !bytes.Equal(out.Bytes(), in) {
				t.Fatalf("fits: got %q, %v", out.Bytes(), err)
			}
			return
		}
		if !errors.Is(err, ErrTooLarge) || !bytes.Equal(out.Bytes(), in[:max]) {
			t.Fatalf("too long: got %d bytes, %v", out.Len(), err)
		}
	})
}
