package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileTooLarge: a profile larger than MaxProfileBytes is one clear
// error naming the file, however it is read; an endless one (/dev/zero)
// too, without reading it all.
func TestProfileTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(minimal+"#"+strings.Repeat("x", MaxProfileBytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(t.TempDir(), "fits.yaml")
	fits := minimal + "base:\n  max_model_len: 2048\n#"
	fits += strings.Repeat("x", MaxProfileBytes-len(fits)-1) + "\n"
	if err := os.WriteFile(at, []byte(fits), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		load func() (*Profile, error)
		want string // "" for no error
	}{
		// A file one line over the limit.
		{"file", func() (*Profile, error) { return Load(big) }, big + ": the profile is larger than 1 MiB, loadgen's limit: is it the right file?"},
		// An endless device.
		{"/dev/zero", func() (*Profile, error) { return Load("/dev/zero") }, "/dev/zero: the profile is larger than 1 MiB, loadgen's limit: is it the right file?"},
		// Parse holds in-memory profiles to the same limit.
		{"parse", func() (*Profile, error) { return Parse(make([]byte, MaxProfileBytes+1), "mem.yaml") }, "mem.yaml: the profile is larger than 1 MiB, loadgen's limit: is it the right file?"},
		// A profile of exactly the limit loads (its dataset is relative to
		// the package directory, so it is parsed from there).
		{"exact", func() (*Profile, error) {
			b, err := os.ReadFile(at)
			if err != nil {
				return nil, err
			}
			return Parse(b, "p.yaml")
		}, ""},
	}
	for _, tc := range tests {
		_, err := tc.load()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "":
		case err == nil || err.Error() != tc.want:
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestByteSize: sizes as a profile writes them.
func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		err  bool
	}{
		// A plain number is bytes.
		{"4096", 4096, false},
		// Binary units are powers of 1024, with or without a space, any case.
		{"16MiB", 16 << 20, false},
		{"512 kib", 512 << 10, false},
		{"1.5GiB", 3 << 29, false},
		// Decimal units are powers of 1000.
		{"2MB", 2e6, false},
		// Nothing, zero, a negative or an unknown unit are refused.
		{"", 0, true},
		{"0", 0, true},
		{"-1MiB", 0, true},
		{"16 MiBs", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseByteSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestWorkloadLimits: the dataset limits are settable in the workload
// section, pre-flight holds the dataset to them (file:line, naming the key
// to raise), and they only apply to a dataset.
func TestWorkloadLimits(t *testing.T) {
	t.Parallel()
	long := writeCSV(t, 1, "q1,"+strings.Repeat("a", 2000)+",b\n")
	tests := []struct {
		name string
		rest string // the workload keys added
		want string // "" passes
	}{
		// The defaults hold a 2 KB document.
		{"defaults", "", ""},
		// A smaller field limit refuses it, naming the row, the column and
		// the key.
		{"field", "  max_field_size: 1KiB\n", long + ":3:4: the field is larger than 1 KiB (the limit; raise it with workload.max_field_size)"},
		// So does a smaller row limit.
		{"row", "  max_row_size: 1000\n", long + ":3: the row is larger than 1000 B (the limit; raise it with workload.max_row_size)"},
		// Raised limits hold it.
		{"raised", "  max_field_size: 4KiB\n  max_row_size: 64KiB\n  max_decompressed_size: 1GiB\n", ""},
	}
	for _, tc := range tests {
		p := mustParse(t, strings.Replace(minimal, "testdata/sample.csv", long, 1)+
			"  search_num: 2\n  top_n: 1\n"+tc.rest+"base:\n  max_model_len: 2048\n")
		_, err := preflightTrue(t, p)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	_, err := Parse([]byte("name: t\nmodel: /m\nworkload:\n  format: synthetic\n  max_row_size: 1MiB\nbase:\n  max_model_len: 2048\nload:\n  - {arrival: sync, queries: 1}\n"), "p.yaml")
	if err == nil || !strings.Contains(err.Error(), "workload.max_row_size: only applies to rerank workloads") {
		t.Errorf("a limit on a synthetic workload: %v", err)
	}
}

// TestWorkloadFormatOverridesExtension: workload.format reads a dataset
// whose name says nothing (or something else) in that format, in
// pre-flight and in every later read (the streamed path included).
func TestWorkloadFormatOverridesExtension(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	txt := filepath.Join(dir, "rows.txt")
	if err := os.WriteFile(txt, []byte("query,answer_0,answer_1\nq0,a,b\nq1,c,d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonl := filepath.Join(dir, "rows.data")
	if err := os.WriteFile(jsonl, []byte(`{"query":"q0","documents":["a","b"]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, format string }{{txt, "csv"}, {jsonl, "jsonl"}} {
		p := mustParse(t, strings.Replace(minimal, "testdata/sample.csv", tc.path, 1)+
			"  format: "+tc.format+"\n  search_num: 2\n  top_n: 1\nbase:\n  max_model_len: 2048\n")
		checked, err := preflightTrue(t, p)
		if err != nil {
			t.Fatalf("%s: pre-flight: %v", tc.path, err)
		}
		kept := checked.Dataset()
		streamed := &Dataset{w: kept.w} // as a dataset too large to keep is read again
		for _, d := range []*Dataset{kept, streamed} {
			ds, err := d.Open()
			if err != nil {
				t.Fatalf("%s: open: %v", tc.path, err)
			}
			q, err := ds.Next()
			ds.Close()
			if err != nil || q.Text != "q0" || q.Documents[1] != "b" {
				t.Errorf("%s (kept %v): first query %+v, %v", tc.path, d.Kept(), q, err)
			}
		}
	}
}

// TestDatasetHash: pre-flight hashes the dataset file it reads, in the same
// pass: the hash is the SHA-256 of the file's bytes, compressed or not,
// and changes with any byte.
func TestDatasetHash(t *testing.T) {
	t.Parallel()
	path := writeCSV(t, 3, "")
	hashOf := func() (string, int64) {
		t.Helper()
		checked, err := preflightTrue(t, preflightProfile(t, path, ""))
		if err != nil {
			t.Fatal(err)
		}
		return checked.Dataset().SHA256(), checked.Dataset().Size()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	got, size := hashOf()
	if got != hex.EncodeToString(sum[:]) || size != int64(len(b)) {
		t.Errorf("hash %s of %d bytes, want %x of %d", got, size, sum, len(b))
	}
	if err := os.WriteFile(path, append(b, "q9,a,c\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if again, _ := hashOf(); again == got {
		t.Error("a changed dataset hashes the same")
	}
}

// preflightTrue runs pre-flight with `true` as the server command, which
// is on every PATH.
func preflightTrue(t *testing.T, p *Profile) (*Checked, error) {
	t.Helper()
	pl, err := p.Expand(ExpandOptions{Command: []string{"true"}})
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return pl.Preflight()
}

// TestLongPhaseWarning: a phase whose measured part is planned to outlast
// the histograms' range gets a warning in the plan (dry run, sweep
// progress); one that fits, or has no planned length, does not.
func TestLongPhaseWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		phase string
		want  string // "" no warning
	}{
		// A duration beyond a day.
		{"{arrival: sync, duration: 48h}", "load[0]: phase sync: its measured part is planned to last 48h0m0s, longer than the 24h0m0s the latency histograms hold"},
		// Queries at a rate that take longer than a day: 100000 at 0.5/s.
		{"{arrival: poisson, rate: 0.5, queries: 100000}", "phase poisson-0.5: its measured part is planned to last 55h33m0s"},
		// Within a day.
		{"{arrival: poisson, rate: 2, queries: 100000}", ""},
		// A sync phase with queries has no planned length.
		{"{arrival: sync, queries: 100000}", ""},
	}
	for _, tc := range tests {
		p := mustParse(t, minimal+"base:\n  max_model_len: 2048\nserver:\n  neuron_cores: \"0-1\"\nload:\n  - "+tc.phase+"\n")
		var got []string
		for _, w := range expand(t, p).Warnings {
			if strings.Contains(w, "latency histograms") {
				got = append(got, w)
			}
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s: unexpected warning %q", tc.phase, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s: warnings %q, want one with %q", tc.phase, got, tc.want)
		}
	}
}
