package profiles

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"loadgen/workload"
)

// preflightProfile is a valid profile reading the dataset at path with
// search_num 2, then rest.
func preflightProfile(t *testing.T, path, rest string) *Profile {
	t.Helper()
	return mustParse(t, strings.Replace(minimal, "testdata/sample.csv", path, 1)+
		"  search_num: 2\n  top_n: 1\nbase:\n  max_model_len: 2048\n"+rest)
}

// writeCSV writes a dataset of n rows × 2 documents (row i's query is
// "q<i>"), with the given rows appended, and returns its path.
func writeCSV(t *testing.T, n int, extra string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("query,answer_0,answer_1\n")
	for i := range n {
		fmt.Fprintf(&b, "q%d,a,b\n", i)
	}
	b.WriteString(extra)
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPreflight: one call finds every problem that can be known before a
// server starts — phases against the rules, a missing server command, a
// bad dataset row, a one-pass phase over a dataset too large to cache —
// and reports them all together.
func TestPreflight(t *testing.T) {
	t.Parallel()
	good := writeCSV(t, 2, "")
	short := writeCSV(t, 1, "q1,a\n")
	large := writeCSV(t, maxKeptQueries+1, "")
	tests := []struct {
		name    string
		dataset string
		rest    string  // appended to the profile
		load    []Phase // replaces the loaded phases when set, as code may
		opts    ExpandOptions
		want    []string // substrings, one per error; none means it passes
	}{
		// The default phase over a good dataset.
		{"good", good, "", nil, ExpandOptions{Command: []string{"true"}}, nil},
		// Phases set in code are held to the profile's rules: a phase the
		// engine could run (a sync phase with a cap of 1) passes, the
		// others are named by key.
		{"phases", good, "", []Phase{
			{Name: "ok", Arrival: ArrivalSync, MaxConcurrency: 1},
			{Name: "nocap", Arrival: ArrivalInf, Rate: RateValue{QPS: InfRate}, Queries: 3},
			{Name: "norate", Arrival: ArrivalPoisson, Queries: 3},
			{Name: "both", Arrival: ArrivalConstant, Rate: QPS(1), Queries: 3, Duration: 5},
			{Name: "ok", Arrival: ArrivalSync, Queries: 1},
		}, ExpandOptions{Command: []string{"true"}}, []string{
			"p.yaml: load[1].max_concurrency: required with rate inf",
			"p.yaml: load[2].rate: required for arrival poisson",
			"p.yaml: load[3].duration: set queries or duration, not both",
			`p.yaml: load[4]: phase name "ok" is already used by load[0]`,
		}},
		// No server command, no sweep: one line that points at --simulate.
		{"command", good, "", nil, ExpandOptions{Command: []string{"/nonexistent/vllm"}}, []string{`"/nonexistent/vllm" is not in PATH`}},
		// A short row is named by file and line.
		{"short row", short, "", nil, ExpandOptions{Command: []string{"true"}}, []string{"d.csv:3: "}},
		// A one-pass phase over more queries than the cache holds.
		{"one pass too large", large, "load:\n  - arrival: sync\n", nil, ExpandOptions{Command: []string{"true"}},
			[]string{fmt.Sprintf("p.yaml:11: load[0]: phase sync makes one pass over a dataset of %d queries, more than the %d loadgen caches: set queries or duration", maxKeptQueries+1, maxKeptQueries)}},
		// Everything at once.
		{"all", short, "", []Phase{{Name: "norate", Arrival: ArrivalPoisson, Queries: 3}}, ExpandOptions{Command: []string{"/nonexistent/vllm"}},
			[]string{"load[0].rate: required", `"/nonexistent/vllm" is not in PATH`, "d.csv:3: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := preflightProfile(t, tc.dataset, tc.rest)
			if tc.load != nil {
				p.Load = tc.load
			}
			before := fmt.Sprintf("%+v", p.Load)
			pl, err := p.Expand(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := pl.Preflight()
			if got := fmt.Sprintf("%+v", p.Load); got != before {
				t.Errorf("pre-flight changed the phases: %s, was %s", got, before)
			}
			if len(tc.want) == 0 {
				if err != nil || c.Plan() != pl || c.Dataset() == nil {
					t.Fatalf("Preflight = %v, %v", c, err)
				}
				return
			}
			if err == nil || c != nil {
				t.Fatalf("Preflight passed, want %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("errors lack %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestPreflightLargeDataset: a dataset too large to keep is counted, not
// kept; the sweep streams it, so Open reads the file again. A counted
// phase over it passes.
func TestPreflightLargeDataset(t *testing.T) {
	t.Parallel()
	p := preflightProfile(t, writeCSV(t, maxKeptQueries+1, ""), "load:\n  - arrival: sync\n    queries: 3\n")
	pl, err := p.Expand(ExpandOptions{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pl.Preflight()
	if err != nil {
		t.Fatal(err)
	}
	d := c.Dataset()
	if d.Queries() != maxKeptQueries+1 || d.Kept() {
		t.Errorf("dataset: %d queries, kept %v; want %d, not kept", d.Queries(), d.Kept(), maxKeptQueries+1)
	}
	if got := readAll(t, d); len(got) != maxKeptQueries+1 || got[maxKeptQueries].Text != fmt.Sprintf("q%d", maxKeptQueries) {
		t.Errorf("Open read %d queries", len(got))
	}
}

// countingFS counts the opens of one file.
type countingFS struct {
	fstest.MapFS
	name  string
	opens atomic.Int32
}

func (c *countingFS) Open(name string) (fs.File, error) {
	if name == c.name {
		c.opens.Add(1)
	}
	return c.MapFS.Open(name)
}

// TestPreflightReadsOnce: pre-flight opens the dataset once and keeps what
// it read; the checked plan's dataset replays it (with what the read had
// to say about short rows) as often as the sweep asks, without opening the
// file again.
func TestPreflightReadsOnce(t *testing.T) {
	t.Parallel()
	profile := strings.Replace(minimal, "testdata/sample.csv", "d.csv", 1) +
		"  search_num: 2\n  top_n: 1\n  short_rows: pad\nbase:\n  max_model_len: 2048\n"
	fsys := &countingFS{name: "d.csv", MapFS: fstest.MapFS{
		"p.yaml": {Data: []byte(profile)},
		"d.csv":  {Data: []byte("query,answer_0,answer_1\nq0,a,b\nq1,c\nq2,d,e\n")},
	}}
	p, err := loadFS(fsys, "p.yaml", "shipped:p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := p.Expand(ExpandOptions{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pl.Preflight()
	if err != nil {
		t.Fatal(err)
	}
	d := c.Dataset()
	if !d.Kept() || d.Queries() != 3 || len(d.Warnings()) != 1 || !strings.Contains(d.Warnings()[0], "padded 1 row(s)") {
		t.Errorf("dataset: kept %v, %d queries, warnings %q", d.Kept(), d.Queries(), d.Warnings())
	}
	first := readAll(t, d)
	if second := readAll(t, d); !reflect.DeepEqual(first, second) || len(first) != 3 || first[1].Text != "q1" || !reflect.DeepEqual(first[1].Documents, []string{"c", ""}) {
		t.Errorf("replays differ or lost rows: %+v / %+v", first, second)
	}
	ds, err := d.Open()
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := ds.(workload.Warner); !ok || !reflect.DeepEqual(w.Warnings(), d.Warnings()) {
		t.Errorf("the replay does not pass on the read's warnings")
	}
	ds.Close()
	if n := fsys.opens.Load(); n != 1 {
		t.Errorf("the dataset was opened %d times, want once", n)
	}
}

// TestPreflightSynthetic: a synthetic workload has no dataset to read.
func TestPreflightSynthetic(t *testing.T) {
	t.Parallel()
	p := loadShippedForTest(t, "generate.yaml")
	pl, err := p.Expand(ExpandOptions{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pl.Preflight()
	if err != nil || c.Dataset() != nil || !strings.Contains(c.Summary(), "synthetic workload: no dataset") {
		t.Errorf("Preflight = %v, %v", c, err)
	}
}

// readAll reads a dataset from its first query to its end.
func readAll(t *testing.T, d *Dataset) []workload.Query {
	t.Helper()
	ds, err := d.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	var out []workload.Query
	for {
		q, err := ds.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
}
