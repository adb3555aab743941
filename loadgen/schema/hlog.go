package schema

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry of every metric: microseconds, from 1 µs to HistSpan,
// 3 significant digits. A day, not an hour: under a concurrency cap a long
// inf or overloaded phase holds requests back for more than an hour, and
// their schedule lag and response time must still count. HDR memory grows
// with the logarithm of the range: 184 KiB per histogram at one hour,
// 224 KiB at one day.
const (
	HistMin    = 1
	HistSpan   = 24 * time.Hour
	HistMax    = int64(HistSpan / time.Microsecond)
	HistDigits = 3
)

// NewHist returns an empty histogram of the geometry every metric uses.
func NewHist() *hdr.Histogram { return hdr.New(HistMin, HistMax, HistDigits) }

// HlogWriter writes an HdrHistogram interval log (format version 1.3, as
// HdrHistogram's Java HistogramLogWriter does): a header, then one line per
// metric and interval, "Tag=<metric>,<start s>,<length s>,<max>,<base64
// compressed histogram>". Values are microseconds; the Interval_Max column
// is scaled by the format's default ratio 10^6, so it reads in seconds.
// Interval start times are relative to the #[BaseTime] line, the phase
// origin. HistogramLogProcessor and similar tools read it.
type HlogWriter struct {
	bw  *bufio.Writer
	lw  *hdr.HistogramLogWriter
	ms  int64 // phase origin, ms since the epoch
	err error
}

func NewHlogWriter(w io.Writer, start time.Time, simulated bool, phase string) *HlogWriter {
	bw := bufio.NewWriter(w)
	h := &HlogWriter{bw: bw, lw: hdr.NewHistogramLogWriter(bw), ms: start.UnixMilli()}
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

func (h *HlogWriter) check(err error) {
	if err != nil && h.err == nil {
		h.err = fmt.Errorf("hlog: %w", err)
	}
}

// Interval writes the non-empty histograms of one interval, [from, to) as
// offsets from the phase origin, tagged with their metric names, and resets
// them.
func (h *HlogWriter) Interval(hists []*hdr.Histogram, tags []string, from, to time.Duration) {
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

// Write writes one tagged histogram as an interval, with the start and end
// times it holds (ms since the epoch, as ReadHlogIntervals returns them).
func (h *HlogWriter) Write(hist *hdr.Histogram) {
	if h.err == nil {
		h.check(h.lw.OutputIntervalHistogram(hist))
	}
}

// Flush writes out what is buffered and returns the first error.
func (h *HlogWriter) Flush() error {
	h.check(h.bw.Flush())
	return h.err
}

// ReadHlog reads an HdrHistogram interval log (the standard format written
// by hdrhistogram-go's HistogramLogWriter, Java's HistogramLogWriter, …) and
// merges all intervals of each tag into one histogram. Untagged intervals
// are returned under the key "". Values are as recorded: microseconds in
// loadgen's logs, one tag per metric name (ttft, e2el, query_latency, …).
func ReadHlog(r io.Reader) (map[string]*hdr.Histogram, error) {
	intervals, err := ReadHlogIntervals(r)
	if err != nil {
		return nil, err
	}
	byTag := map[string][]*hdr.Histogram{}
	for _, h := range intervals {
		byTag[h.Tag()] = append(byTag[h.Tag()], h)
	}
	out := make(map[string]*hdr.Histogram, len(byTag))
	for tag, hs := range byTag {
		m, err := mergeAll(hs)
		if err != nil {
			return nil, fmt.Errorf("tag %q: %w", tag, err)
		}
		out[tag] = m
	}
	return out, nil
}

// ReadHlogIntervals reads an interval log's histograms in the order
// written, each with its tag and its absolute start and end times (ms
// since the epoch).
func ReadHlogIntervals(r io.Reader) ([]*hdr.Histogram, error) {
	lr := hdr.NewHistogramLogReader(r)
	var out []*hdr.Histogram
	for n := 1; ; n++ {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("interval %d: %w", n, err)
		}
		if h == nil {
			return out, nil
		}
		out = append(out, h)
	}
}

// ReadHlogFile reads the interval log at path with ReadHlog.
func ReadHlogFile(path string) (map[string]*hdr.Histogram, error) {
	return readHlogFile(path, ReadHlog)
}

// ReadHlogFileIntervals reads the interval log at path with
// ReadHlogIntervals.
func ReadHlogFileIntervals(path string) ([]*hdr.Histogram, error) {
	return readHlogFile(path, ReadHlogIntervals)
}

func readHlogFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("read hlog: %w", err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("read hlog %s: %w", path, err)
	}
	return v, nil
}

// MergeHists merges histograms (of one metric) into a new one whose
// range covers all of them, so that no value is dropped: adding their
// bucket counts gives exactly the histogram of all their values.
func MergeHists(hs []*hdr.Histogram) (*hdr.Histogram, error) {
	if len(hs) == 0 {
		return NewHist(), nil
	}
	return mergeAll(hs)
}

// mergeAll merges histograms into a new one whose range covers all of
// them, so that no value is dropped.
func mergeAll(hs []*hdr.Histogram) (*hdr.Histogram, error) {
	lo, hi, sig := hs[0].LowestTrackableValue(), hs[0].HighestTrackableValue(), hs[0].SignificantFigures()
	for _, h := range hs[1:] {
		lo = min(lo, h.LowestTrackableValue())
		hi = max(hi, h.HighestTrackableValue())
		sig = max(sig, h.SignificantFigures())
	}
	m := hdr.New(lo, hi, int(sig))
	m.SetTag(hs[0].Tag())
	for _, h := range hs {
		if dropped := m.Merge(h); dropped > 0 {
			return nil, fmt.Errorf("merge dropped %d values", dropped)
		}
	}
	return m, nil
}
