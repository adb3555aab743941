package workload

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

const (
	benchRows = 1_000_000
	benchDocs = 8
)

// writeBenchFile writes a benchRows-row dataset in format.
func writeBenchFile(b *testing.B, format string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "big."+format)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if format == FormatCSV {
		w.WriteString("query")
		for d := range benchDocs {
			w.WriteString(",answer_" + strconv.Itoa(d))
		}
		w.WriteByte('\n')
	}
	for i := range benchRows {
		if format == FormatCSV {
			fmt.Fprintf(w, "what is covered %d", i)
			for d := range benchDocs {
				fmt.Fprintf(w, ",doc %d", d)
			}
			w.WriteByte('\n')
			continue
		}
		fmt.Fprintf(w, `{"query":"what is covered %d","documents":[`, i)
		for d := range benchDocs {
			if d > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, `"doc %d"`, d)
		}
		w.WriteString("],\"relevant\":[0]}\n")
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// liveHeap returns the heap in use after a collection, in KiB.
func liveHeap() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / 1024
}

// BenchmarkDatasetStream streams a generated million-row file (in
// b.TempDir, not committed) and reports the live heap after 100k rows and
// after all rows: equal figures mean memory stays flat however long the
// file. Run with: go test -run '^$' -bench DatasetStream -benchtime 1x -benchmem ./workload/
func BenchmarkDatasetStream(b *testing.B) {
	for _, format := range []string{FormatCSV, FormatJSONL} {
		b.Run(format, func(b *testing.B) {
			path := writeBenchFile(b, format)
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			b.ReportAllocs()
			var early, late float64
			for b.Loop() {
				ds, err := OpenDataset(path, "", DatasetOptions{SearchNum: benchDocs})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := ds.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
					if n == benchRows/10 {
						early = liveHeap()
					}
				}
				late = liveHeap()
				ds.Close()
				if n != benchRows {
					b.Fatalf("%d rows, want %d", n, benchRows)
				}
			}
			b.ReportMetric(early, "live-KiB@100k")
			b.ReportMetric(late, "live-KiB@1M")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
		})
	}
}
