package report

import (
	"fmt"
	"io"
	"os"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ReadHlog reads an HdrHistogram interval log (the standard format written
// by hdrhistogram-go's HistogramLogWriter, Java's HistogramLogWriter, …) and
// merges all intervals of each tag into one histogram. Untagged intervals
// are returned under the key "". Values are as recorded: microseconds in
// loadgen's logs, one tag per metric name (ttft, e2el, query_latency, …).
func ReadHlog(r io.Reader) (map[string]*hdrhistogram.Histogram, error) {
	lr := hdrhistogram.NewHistogramLogReader(r)
	byTag := map[string][]*hdrhistogram.Histogram{}
	for n := 1; ; n++ {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("interval %d: %w", n, err)
		}
		if h == nil {
			break
		}
		byTag[h.Tag()] = append(byTag[h.Tag()], h)
	}
	out := make(map[string]*hdrhistogram.Histogram, len(byTag))
	for tag, hs := range byTag {
		m, err := mergeAll(hs)
		if err != nil {
			return nil, fmt.Errorf("tag %q: %w", tag, err)
		}
		out[tag] = m
	}
	return out, nil
}

// ReadHlogFile reads the interval log at path with ReadHlog.
func ReadHlogFile(path string) (map[string]*hdrhistogram.Histogram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read hlog: %w", err)
	}
	defer f.Close()
	hs, err := ReadHlog(f)
	if err != nil {
		return nil, fmt.Errorf("read hlog %s: %w", path, err)
	}
	return hs, nil
}

// mergeAll merges histograms into a new one whose range covers all of
// them, so that no value is dropped.
func mergeAll(hs []*hdrhistogram.Histogram) (*hdrhistogram.Histogram, error) {
	lo, hi, sig := hs[0].LowestTrackableValue(), hs[0].HighestTrackableValue(), hs[0].SignificantFigures()
	for _, h := range hs[1:] {
		lo = min(lo, h.LowestTrackableValue())
		hi = max(hi, h.HighestTrackableValue())
		sig = max(sig, h.SignificantFigures())
	}
	m := hdrhistogram.New(lo, hi, int(sig))
	m.SetTag(hs[0].Tag())
	for _, h := range hs {
		if dropped := m.Merge(h); dropped > 0 {
			return nil, fmt.Errorf("merge dropped %d values", dropped)
		}
	}
	return m, nil
}
