package schema

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// writeLog writes intervals as HistogramLogWriter does; each interval is
// a tag and its values (µs).
func writeLog(t testing.TB, intervals []struct {
	tag    string
	values []int64
	high   int64
}) []byte {
	var b bytes.Buffer
	w := hdrhistogram.NewHistogramLogWriter(&b)
	w.OutputLogFormatVersion()
	w.OutputStartTime(1_700_000_000_000)
	w.OutputLegend()
	for i, iv := range intervals {
		h := hdrhistogram.New(1, iv.high, 3)
		for _, v := range iv.values {
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		h.SetTag(iv.tag)
		h.SetStartTimeMs(1_700_000_000_000 + int64(i)*1000)
		h.SetEndTimeMs(1_700_000_000_000 + int64(i+1)*1000)
		if err := w.OutputIntervalHistogram(h); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestReadHlogMergesIntervals(t *testing.T) {
	log := writeLog(t, []struct {
		tag    string
		values []int64
		high   int64
	}{
		{"ttft", []int64{1000, 2000}, 3_600_000_000},
		{"query_latency", []int64{300_000}, 3_600_000_000},
		// A later interval of the same tag with a smaller range: merged
		// into a histogram covering both ranges, nothing dropped.
		{"ttft", []int64{3000, 4_000_000}, 10_000_000},
		{"", []int64{7}, 1000},
	})
	hs, err := ReadHlog(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 {
		t.Fatalf("tags %v", sortedTags(hs))
	}
	ttft := hs["ttft"]
	if ttft.TotalCount() != 4 || ttft.Max() < 3_990_000 || ttft.Min() != 1000 || ttft.Tag() != "ttft" {
		t.Errorf("ttft: count %d min %d max %d", ttft.TotalCount(), ttft.Min(), ttft.Max())
	}
	if hs["query_latency"].TotalCount() != 1 || hs[""].TotalCount() != 1 {
		t.Error("other tags")
	}
}

func TestReadHlogInputs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		tags    int
		wantErr bool
	}{
		// An empty log has no histograms.
		{"empty", "", 0, false},
		// Comments and a legend only.
		{"header only", "#[Histogram log format version 1.3]\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n", 0, false},
		// A payload that is not a histogram.
		{"bad payload", "Tag=ttft,0.000,1.000,0.5,AAAA\n", 0, true},
		// A timestamp that is not a number.
		{"bad timestamp", "1.2.3,1.0,1.0,HISTFAAAA\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := ReadHlog(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr || len(hs) != tc.tags {
				t.Errorf("ReadHlog: %d tags, err %v", len(hs), err)
			}
		})
	}
	if _, err := ReadHlogFile("testdata/absent.hlog"); err == nil {
		t.Error("missing file must fail")
	}
}

func FuzzReadHlog(f *testing.F) {
	f.Add(writeLog(f, []struct {
		tag    string
		values []int64
		high   int64
	}{{"ttft", []int64{1, 2, 3}, 1000}}))
	f.Add([]byte("Tag=x,0,1,1,HISTFAAAACB42pNpmSzMwMDAxAABzFCaEUoz2X+AsQEAXx0DIQ==\n"))
	f.Add([]byte("#[StartTime: 1 (seconds since epoch)]\n,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := ReadHlog(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, h := range hs {
			h.ValueAtQuantile(99) // merged histograms are usable
		}
	})
}

// sortedTags returns the keys of a histogram map in order.
func sortedTags(hs map[string]*hdrhistogram.Histogram) []string {
	tags := make([]string, 0, len(hs))
	for t := range hs {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return tags
}
