package profiles

import (
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
