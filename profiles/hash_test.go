package profiles

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHash: the hash follows the resolved content, not the file's bytes or
// where it lives.
func TestHash(t *testing.T) {
	const src = minimal + "base:\n  max_model_len: 2048\nload:\n  - arrival: poisson\n    rate: 1\n    queries: 10\n"
	ref := mustParse(t, src).Hash()
	if len(ref) != 64 {
		t.Fatalf("Hash() = %q, want hex SHA-256", ref)
	}
	tests := []struct {
		name string
		src  string
		path string
		same bool
	}{
		// Loading again gives the same hash.
		{"reload", src, "p.yaml", true},
		// Comments, blank lines and flow style do not matter.
		{"formatting", "# a comment\n" + strings.Replace(src, "  - arrival: poisson\n    rate: 1\n    queries: 10\n", "  - {arrival: poisson, rate: 1, queries: 10}\n\n", 1), "p.yaml", true},
		// Writing a default explicitly resolves to the same profile.
		{"explicit default", src + "slo:\n", "p.yaml", true},
		// Another file name in the same directory: Path is not hashed.
		{"path", src, "q.yaml", true},
		// A different rate is a different sweep.
		{"rate", strings.Replace(src, "rate: 1", "rate: 2", 1), "p.yaml", false},
		// So is a different setting.
		{"setting", strings.Replace(src, "max_model_len: 2048", "max_model_len: 4096", 1), "p.yaml", false},
	}
	for _, tc := range tests {
		p, err := Parse([]byte(tc.src), tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := p.Hash(); (got == ref) != tc.same {
			t.Errorf("%s: hash %s, reference %s, want same=%v", tc.name, got, ref, tc.same)
		}
	}
}

// TestHashMovedCheckout: the same profile and dataset in another directory
// (a checkout elsewhere, CI) hash the same; a dataset elsewhere does not.
func TestHashMovedCheckout(t *testing.T) {
	const src = "name: t\nmodel: ./models/m\ntensor_parallel_size: 2\nworkload:\n  dataset: data/d.csv\nbase:\n  max_model_len: 2048\n"
	hashIn := func(dir, src string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		csv := "query,"
		var cols []string
		for i := 0; i < 20; i++ {
			cols = append(cols, fmt.Sprintf("answer_%d", i))
		}
		csv += strings.Join(cols, ",") + "\nq" + strings.Repeat(",d", 20) + "\n"
		if err := os.WriteFile(filepath.Join(dir, "data", "d.csv"), []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Parse([]byte(src), filepath.Join(dir, "p.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return p.Hash()
	}
	a := hashIn(t.TempDir(), src)
	if b := hashIn(t.TempDir(), src); a != b {
		t.Errorf("moved checkout: hash %s, then %s", a, b)
	}
	other := t.TempDir()
	hashIn(other, src)
	abs := strings.Replace(src, "data/d.csv", filepath.Join(other, "data", "d.csv"), 1)
	if c := hashIn(t.TempDir(), abs); c == a {
		t.Error("a dataset outside the profile's directory hashes like the relative one")
	}
}
