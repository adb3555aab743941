package workload

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// chunkReader returns data in chunks of the given sizes, in turn; a size of
// 0 returns (0, nil), which io.Reader allows.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.i%len(c.sizes)], len(p), len(c.data))
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestTextReader(t *testing.T) {
	tests := []struct {
		why   string
		data  string
		sizes []int
		want  string
		err   string
	}{
		{"BOM split over reads, with empty reads", "\xEF\xBB\xBFq,é€😀\nx", []int{1, 0, 1, 0, 1, 2, 1}, "q,é€😀\nx", ""},
		{"a BOM prefix that is not a BOM is text", "\xEF\xBBx", []int{1}, "", "f:1:1: invalid UTF-8"},
		{"a BOM only at the start", "a\xEF\xBB\xBF", []int{1, 0}, "a\xEF\xBB\xBF", ""},
		{"runes split at every byte", "ab€\ncd😀", []int{1}, "ab€\ncd😀", ""},
		{"an invalid byte after a newline", "ok\n\x80", []int{2, 0, 5}, "ok\n", "f:2:1: invalid UTF-8"},
		{"an overlong encoding is invalid", "a\xC0\xAF", []int{8}, "a", "f:1:2: invalid UTF-8"},
		{"a rune cut by the end of the input", "a\xF0\x9F\x98", []int{8}, "a", "f:1:2: invalid UTF-8"},
	}
	for _, tt := range tests {
		r := newTextReader(&chunkReader{data: []byte(tt.data), sizes: tt.sizes}, "f", DatasetLimits{}.row())
		var out bytes.Buffer
		buf := make([]byte, 16)
		var err error
		for i := 0; i < 1000; i++ {
			var n int
			n, err = r.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		if out.String() != tt.want || fmtErr(err) != tt.err {
			t.Errorf("%s: got %q, %v; want %q, %q", tt.why, out.String(), err, tt.want, tt.err)
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
