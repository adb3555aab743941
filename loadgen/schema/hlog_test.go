package schema

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

func TestHlogRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewHlogWriter(&buf, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), true, "p1")
	a, b := NewHist(), NewHist()
	tags := []string{"ttft", "e2el"}
	// Two intervals; e2el is empty in the second and is not written.
	for i := int64(1); i <= 100; i++ {
		_ = a.RecordValue(i * 1000)
		_ = b.RecordValue(i * 2000)
	}
	w.Interval([]*hdr.Histogram{a, b}, tags, 0, time.Second)
	for i := int64(1); i <= 50; i++ {
		_ = a.RecordValue(i * 10)
	}
	w.Interval([]*hdr.Histogram{a, b}, tags, time.Second, 2*time.Second)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"#[Histogram log format version 1.3]", "SIMULATED", "#[StartTime: 1767323045",
		"#[BaseTime: 1767323045", "\"StartTimestamp\"", "Tag=ttft,0.000000,1.000000,", "Tag=ttft,1.000000,1.000000,"} {
		if !strings.Contains(text, want) {
			t.Errorf("hlog lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "Tag=e2el,"); n != 1 {
		t.Errorf("%d e2el intervals, want 1", n)
	}
	got, err := ReadHlog(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if c := got["ttft"].TotalCount(); c != 150 {
		t.Errorf("ttft: %d values, want 150", c)
	}
	if c := got["e2el"].TotalCount(); c != 100 {
		t.Errorf("e2el: %d values, want 100", c)
	}
	if v := got["e2el"].ValueAtPercentile(50); v < 99900 || v > 100100 {
		t.Errorf("e2el p50 %d µs, want about 100000", v)
	}
}

func TestReadHlogCorrupt(t *testing.T) {
	t.Parallel()
	if _, err := ReadHlog(strings.NewReader("Tag=ttft,0.0,1.0,0.1,HISTFAAAAnotbase64!\n")); err == nil {
		t.Error("corrupt payload accepted")
	}
	got, err := ReadHlog(strings.NewReader("#[comment]\n"))
	if err != nil || len(got) != 0 {
		t.Errorf("empty log: %v, %v", got, err)
	}
}
