package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry of every metric: microseconds, from 1 µs to histSpan,
// 3 significant digits. A day, not an hour: under a concurrency cap a long
// inf or overloaded phase holds requests back for more than an hour, and
// their schedule lag and response time must still count. HDR memory grows
// with the logarithm of the range: 184 KiB per histogram at one hour,
// 224 KiB at one day.
const (
	histMin    = 1
	histSpan   = 24 * time.Hour
	histMax    = int64(histSpan / time.Microsecond)
	histDigits = 3
)

func newHist() *hdr.Histogram { return hdr.New(histMin, histMax, histDigits) }

// hlogWriter writes an HdrHistogram interval log (format version 1.3, as
// HdrHistogram's Java HistogramLogWriter does): a header, then one line per
// metric and interval, "Tag=<metric>,<start s>,<length s>,<max>,<base64
// compressed histogram>". Values are microseconds; the Interval_Max column
// is scaled by the format's default ratio 10^6, so it reads in seconds.
// Interval start times are relative to the #[BaseTime] line, the phase
// origin. HistogramLogProcessor and similar tools read it.
type hlogWriter struct {
	bw  *bufio.Writer
	lw  *hdr.HistogramLogWriter
	ms  int64 // phase origin, ms since the epoch
	err error
}

func newHlogWriter(w io.Writer, start time.Time, simulated bool, phase string) *hlogWriter {
	bw := bufio.NewWriter(w)
	h := &hlogWriter{bw: bw, lw: hdr.NewHistogramLogWriter(bw), ms: start.UnixMilli()}
	h.lw.SetBaseTime(h.ms)
	h.check(h.lw.OutputLogFormatVersion())
	sim := ""
	if simulated {
		sim = " SIMULATED"
	}
	h.check(h.lw.OutputComment(fmt.Sprintf("[loadgen phase %s%s: values in microseconds, one tag per metric]", phase, sim)))
	h.check(h.lw.OutputStartTime(h.ms))
	h.check(h.lw.OutputBaseTime(h.ms))
	h.check(h.lw.OutputLegend())
	return h
}

func (h *hlogWriter) check(err error) {
	if err != nil && h.err == nil {
		h.err = fmt.Errorf("hlog: %w", err)
	}
}

// interval writes the non-empty histograms of one interval, [from, to) as
// offsets from the phase origin, tagged with their metric names, and resets
// them.
func (h *hlogWriter) interval(hists []*hdr.Histogram, tags []string, from, to time.Duration) {
	for i, hist := range hists {
		if hist.TotalCount() == 0 {
			continue
		}
		if h.err == nil {
			hist.SetTag(tags[i])
			hist.SetStartTimeMs(h.ms + from.Milliseconds())
			hist.SetEndTimeMs(h.ms + to.Milliseconds())
			h.check(h.lw.OutputIntervalHistogram(hist))
		}
		hist.Reset()
	}
}

// flush writes out what is buffered and returns the first error.
func (h *hlogWriter) flush() error {
	h.check(h.bw.Flush())
	return h.err
}

// ReadHlog reads an interval log written by loadgen (or any HdrHistogram
// interval log) and merges the intervals of each tag into one histogram:
// the phase-wide distribution of each metric, in microseconds. Untagged
// intervals are gathered under "".
func ReadHlog(r io.Reader) (map[string]*hdr.Histogram, error) {
	lr := hdr.NewHistogramLogReader(r)
	out := map[string]*hdr.Histogram{}
	for n := 1; ; n++ {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("hlog: interval %d: %w", n, err)
		}
		if h == nil {
			return out, nil
		}
		tag := h.Tag()
		m, ok := out[tag]
		if !ok {
			m = newHist()
			out[tag] = m
		}
		if dropped := m.Merge(h); dropped > 0 {
			return nil, fmt.Errorf("hlog: interval %d (tag %q): %d values out of range", n, tag, dropped)
		}
	}
}
