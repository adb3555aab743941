package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"loadgen/loadgen/schema"
)

// fakeClock returns a clock that advances by step on every reading.
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	t := start
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestLogWatch_phases(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 11, 5, 20, 20, 44, 0, time.UTC)
	w := newLogWatch(start, fakeClock(start, 10*time.Second), contextOf(Config{}))
	for _, l := range coldStart {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "(APIServer pid=2200) INFO:     Application startup complete.")
	phases, artifacts, findings := w.snapshot(time.Time{})

	want := []string{PhaseLoading, PhaseGeneratingHLO, PhaseCompiling, PhaseLoadingWeights, PhaseWarmup, PhaseReady}
	var got []string
	for _, p := range phases {
		got = append(got, p.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("phases = %v, want %v", got, want)
	}
	// The clock advances 10 s at every line that matches a phase marker,
	// whether or not it moves the phase on: compiling sees three markers
	// (priority HLO, neuronx-cc, all HLOs), loading weights two.
	wantSec := []float64{10, 10, 30, 20, 10, 0}
	for i, p := range phases {
		if p.Seconds != wantSec[i] {
			t.Errorf("phase %s lasted %v s, want %v", p.Name, p.Seconds, wantSec[i])
		}
	}
	if artifacts != "miss" {
		t.Errorf("artifacts = %q, want miss", artifacts)
	}
	if len(findings) != 0 {
		t.Errorf("findings = %+v, want none for a clean start", findings)
	}
}

func TestLogWatch_cachedStart(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	w := newLogWatch(start, fakeClock(start, time.Second), testContext)
	for _, l := range cachedStart {
		fmt.Fprintln(w, l)
	}
	w.markReady(start.Add(time.Minute))
	phases, artifacts, findings := w.snapshot(start.Add(time.Hour))
	if artifacts != "hit" {
		t.Errorf("artifacts = %q, want hit", artifacts)
	}
	var names []string
	for _, p := range phases {
		names = append(names, p.Name)
	}
	// A cache hit skips HLO generation and compiling.
	if got, want := strings.Join(names, " "), "loading loading_weights warmup ready"; got != want {
		t.Errorf("phases = %q, want %q", got, want)
	}
	if len(findings) != 2 || findings[0].Class != schema.FailureInvalidConfig || findings[1].Class != schema.NoteArtifactsReused {
		t.Errorf("findings = %+v, want the typo's invalid_config and the reuse", findings)
	}
	if _, ok := w.cause(); ok {
		t.Error("cause() found a fatal cause among warnings")
	}
}

func TestLogWatch_lines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		want   []string // last lines
	}{
		// A line may arrive in pieces.
		{"split writes", []string{"INFO: Warm", "ing up the model.\nnext"}, []string{"INFO: Warming up the model."}},
		// tqdm redraws with \r; each redraw is a line; blank lines vanish.
		{"carriage returns", []string{"Loading: 10%\rLoading: 50%\r\n\n  \nLoading: 100%\n"}, []string{"Loading: 10%", "Loading: 50%", "Loading: 100%"}},
		// Trailing blanks are trimmed.
		{"trailing blanks", []string{"done \t\n"}, []string{"done"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
			for _, s := range tc.writes {
				w.Write([]byte(s))
			}
			got := w.lastLines(ringLines)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lastLines = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLogWatch_ring(t *testing.T) {
	t.Parallel()
	w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	got := w.lastLines(1000)
	if len(got) != ringLines || got[0] != "line 36" || got[len(got)-1] != "line 99" {
		t.Errorf("lastLines = %d lines %q … %q, want %d lines line 36 … line 99", len(got), got[0], got[len(got)-1], ringLines)
	}
	if got := w.lastLines(2); strings.Join(got, "|") != "line 98|line 99" {
		t.Errorf("lastLines(2) = %q", got)
	}
	if got := w.lastLine(); got != "line 99" {
		t.Errorf("lastLine = %q", got)
	}
}

func TestLogWatch_longLine(t *testing.T) {
	t.Parallel()
	w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
	// vLLM's "non-default args" line can be huge; the cause is found in
	// its first 64 KiB and the rest does not become a line of its own.
	long := "ValueError: Input len 9000 exceeds largest bucket (2048) " + strings.Repeat("x", 3*maxLineBytes)
	w.Write([]byte(long[:1000]))
	w.Write([]byte(long[1000:] + "\nafter\n"))
	lines := w.lastLines(ringLines)
	if len(lines) != 2 || lines[1] != "after" {
		t.Fatalf("lastLines = %d lines, last %q; want the clipped long line and \"after\"", len(lines), lines[len(lines)-1])
	}
	if len(lines[0]) > maxRingLine+len("…") {
		t.Errorf("kept line is %d bytes, want ≤ %d", len(lines[0]), maxRingLine)
	}
	if c, ok := w.cause(); !ok || c.Class != schema.FailureBucketExceeded {
		t.Errorf("cause = %+v, want bucket_exceeded", c)
	}
}

func TestLogWatch_findingsBounded(t *testing.T) {
	t.Parallel()
	w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
	// A crash loop repeats the same line; it is kept once.
	for range 10 {
		fmt.Fprintln(w, realLine(t, "k_shape"))
	}
	// Distinct findings are capped.
	for i := range 2 * maxFindings {
		fmt.Fprintf(w, "ValueError: Input len %d exceeds largest bucket (2048)\n", 3000+i)
	}
	_, _, findings := w.snapshot(time.Time{})
	if len(findings) != maxFindings || findings[0].Class != schema.FailureKShape || findings[1].Class != schema.FailureBucketExceeded {
		t.Errorf("got %d findings starting %s, %s; want %d starting k_shape, bucket_exceeded", len(findings), findings[0].Class, findings[1].Class, maxFindings)
	}
}

func TestLogWatch_notifiesOnFatal(t *testing.T) {
	t.Parallel()
	w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
	fmt.Fprintln(w, "INFO: nothing to see")
	select {
	case <-w.changed:
		t.Fatal("notified for an ordinary line")
	default:
	}
	fmt.Fprintln(w, realLine(t, "cores busy"))
	select {
	case <-w.changed:
	default:
		t.Fatal("no notification for a fatal line")
	}
}

func FuzzLogWatch(f *testing.F) {
	for _, r := range realLines {
		f.Add([]byte(r.line+"\n"), 7)
	}
	for _, l := range coldStart {
		f.Add([]byte(l+"\r\n"), 3)
	}
	f.Add([]byte(strings.Repeat("é", 2000)), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		start := time.Unix(0, 0)
		w := newLogWatch(start, fakeClock(start, time.Second), contextOf(Config{}))
		if chunk <= 0 {
			chunk = 1
		}
		for len(data) > 0 {
			n := min(chunk, len(data))
			if m, err := w.Write(data[:n]); m != n || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", m, err, n)
			}
			data = data[n:]
		}
		w.flush()
		lines := w.lastLines(ringLines)
		if len(lines) > ringLines {
			t.Fatalf("%d lines kept, want ≤ %d", len(lines), ringLines)
		}
		for _, l := range lines {
			if len(l) > maxRingLine+len("…") || strings.TrimSpace(l) == "" || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad kept line %q", l)
			}
		}
		phases, _, findings := w.snapshot(start.Add(time.Hour))
		for i := 1; i < len(phases); i++ {
			if phaseOrder[phases[i].Name] <= phaseOrder[phases[i-1].Name] {
				t.Fatalf("phases out of order: %+v", phases)
			}
		}
		for _, fd := range findings {
			if fd.Message == "" || strings.Contains(fd.Message, "\n") || !utf8.ValidString(fd.Message) && utf8.ValidString(fd.Line) {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		if len(findings) > maxFindings {
			t.Fatalf("%d findings, want ≤ %d", len(findings), maxFindings)
		}
	})
}

// BenchmarkLogWatch measures the cost of watching a line (every rule is
// tried on it): vLLM logs a few thousand lines per start, so this must
// stay far below the cost of producing them.
func BenchmarkLogWatch(b *testing.B) {
	var buf []byte
	for _, l := range coldStart {
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	w := newLogWatch(time.Unix(0, 0), time.Now, contextOf(Config{}))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		w.Write(buf)
	}
	b.ReportMetric(float64(b.N*len(coldStart))/b.Elapsed().Seconds(), "lines/s")
}
