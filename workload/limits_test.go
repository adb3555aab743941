package workload

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/bounded"
)

// small are limits small enough to reach in a test, with the settings a
// profile names.
var small = DatasetLimits{MaxField: 100, MaxRow: 300, MaxDecompressed: 2000,
	FieldSetting: "F", RowSetting: "R", DecompressedSetting: "D"}

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDatasetLimits: a field, a row or a decompressed dataset beyond its
// limit is an error naming file:line and the setting that raises it,
// whatever the format, compression or read sizes; and within the limits
// (exactly at them) the row is read.
func TestDatasetLimits(t *testing.T) {
	head := "query,answer_0,answer_1\n"
	long := func(n int) string { return strings.Repeat("a", n) }
	rows := func(n int) string { return strings.Repeat("q,a,b\n", n) }
	tests := []struct {
		why    string
		name   string
		data   string
		want   string         // "" reads fine
		limits *DatasetLimits // nil: small
	}{
		// A field of exactly the limit is fine; one byte more is not (CSV
		// names the column).
		{"csv field at the limit", "d.csv", head + "q," + long(100) + ",b\n", "", nil},
		{"csv field over the limit", "d.csv", head + "q,b," + long(101) + "\n", "d.csv:2:5: the field is larger than 100 B (the limit; raise it with F)", nil},
		// JSONL names the document.
		{"jsonl field over the limit", "d.jsonl", `{"query":"q","documents":["a","` + long(101) + `"]}` + "\n", "d.jsonl:1: documents[1]: the field is larger than 100 B (the limit; raise it with F)", nil},
		{"jsonl query over the limit", "d.jsonl", `{"query":"` + long(101) + `","documents":["a"]}` + "\n", "d.jsonl:1: query: the field is larger than 100 B (the limit; raise it with F)", nil},
		// A row of many fields within the field limit, over the row limit,
		// names the line where it starts.
		{"csv row over the limit", "d.csv", head + rows(2) + "q," + long(99) + "," + long(99) + "," + long(99) + "\n", "d.csv:4: the row is larger than 300 B (the limit; raise it with R)", nil},
		// A quoted field spanning lines counts as one row, named by its
		// first line.
		{"csv multi-line row", "d.csv", head + "q,\"" + strings.Repeat("a\n", 160) + "\",b\n", "d.csv:2: the row is larger than 300 B (the limit; raise it with R)", nil},
		// A JSONL line is a row.
		{"jsonl row over the limit", "d.jsonl", `{"query":"q","documents":["a"]}` + "\n" + `{"query":"q","documents":["` + long(90) + `","` + long(90) + `","` + long(90) + `","` + long(90) + `"]}` + "\n", "d.jsonl:2: the row is larger than 300 B (the limit; raise it with R)", nil},
		// A row without a newline that never fits.
		{"csv endless row", "d.csv", head + "q," + long(100000), "d.csv:2: the row is larger than 300 B (the limit; raise it with R)", nil},
		// Compressed: the same limits apply to the decompressed text.
		{"gzip row over the limit", "d.csv.gz", gz(t, head+"q,"+long(100000)+"\n"), "d.csv.gz:2: the row is larger than 300 B (the limit; raise it with R)", &DatasetLimits{MaxRow: 300, RowSetting: "R"}},
		// Many small rows beyond the decompressed limit: named where it ran
		// out.
		{"gzip bomb of rows", "d.csv.gz", gz(t, head+rows(1000)), "d.csv.gz:331: the decompressed dataset is larger than 2000 B (the limit; raise it with D)", nil},
		// The same text uncompressed is not held to the decompressed limit.
		{"plain rows", "d.csv", head + rows(1000), "", nil},
	}
	for _, tc := range tests {
		for _, slow := range []bool{false, true} {
			lim := small
			if tc.limits != nil {
				lim = *tc.limits
			}
			_, ds, err := openString(tc.name, tc.data, DatasetOptions{Limits: lim}, slow)
			if ds != nil {
				ds.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s (slow %v): %v", tc.why, slow, err)
			case tc.want == "":
			case err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, bounded.ErrTooLarge):
				t.Errorf("%s (slow %v): error %v, want %q", tc.why, slow, err, tc.want)
			}
		}
	}
}

// counting is an endless input of one byte that counts what was read.
type counting struct {
	b byte
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.b
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestDatasetEndlessRow: a row that never ends (a file of one field without
// newlines, /dev/zero) stops at the default row limit: the reader reads at
// most the limit plus its buffers, never the whole input.
func TestDatasetEndlessRow(t *testing.T) {
	for _, name := range []string{"d.csv", "d.jsonl"} {
		c := &counting{b: 'a'}
		head := "query,answer_0\nq,"
		if name == "d.jsonl" {
			head = `{"query":"`
		}
		ds, err := NewDataset(io.MultiReader(strings.NewReader(head), c), name, "", DatasetOptions{})
		if err == nil {
			_, err = readAll(ds)
		}
		if !errors.Is(err, bounded.ErrTooLarge) || !strings.Contains(err.Error(), "the row is larger than 16 MiB") {
			t.Errorf("%s: error %v, want the row limit", name, err)
		}
		if c.n > DefaultMaxRowBytes+4*textBufSize {
			t.Errorf("%s: read %d bytes of an endless row, want at most the row limit %d and the buffers", name, c.n, DefaultMaxRowBytes)
		}
	}
}

// TestOpenDatasetFormat: the format given wins over the file name, and
// gzip is recognised by content, so workload.format on a file with
// another extension reads it.
func TestOpenDatasetFormat(t *testing.T) {
	dir := t.TempDir()
	csv := "query,answer_0\nq,a\n"
	files := []struct {
		name, format, data string
	}{
		// A CSV with a .txt name, format given.
		{"rows.txt", FormatCSV, csv},
		// JSONL without an extension.
		{"rows", FormatJSONL, `{"query":"q","documents":["a"]}` + "\n"},
		// Gzipped content under a plain .csv name.
		{"zipped.csv", "", gz(t, csv)},
		// Gzipped content under a .dat name, format given.
		{"zipped.dat", FormatCSV, gz(t, csv)},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
		ds, err := OpenDataset(path, f.format, DatasetOptions{SearchNum: 1})
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		qs, err := readAll(ds)
		ds.Close()
		if err != nil || len(qs) != 1 || qs[0].Text != "q" || qs[0].Documents[0] != "a" {
			t.Errorf("%s: %+v, %v", f.name, qs, err)
		}
	}
	// Without a format, a name without a known extension is refused.
	if _, err := OpenDataset(filepath.Join(dir, "rows.txt"), "", DatasetOptions{}); err == nil || !strings.Contains(err.Error(), "unknown dataset format") {
		t.Errorf("no format, .txt: %v", err)
	}
}

// TestTokenizerEndlessBody: a /tokenize answer that never ends fails the
// call with the limit, instead of growing memory.
func TestTokenizerEndlessBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tokens":[`))
		chunk := []byte(strings.Repeat("1,", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	_, err := NewServerTokenizer(nil, srv.URL, "m").Tokenize(context.Background(), "text")
	if !errors.Is(err, bounded.ErrTooLarge) || !strings.Contains(err.Error(), "the response body of POST /tokenize is larger than 64 MiB") {
		t.Errorf("Tokenize: %v, want the body limit", err)
	}
}
