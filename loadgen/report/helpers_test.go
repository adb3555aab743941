package report

import (
	"strings"
	"testing"
)

const (
	simDir     = "testdata/sweep-sim"
	partialDir = "testdata/sweep-partial"
	offlineDir = "../../testdata/offline-inf2-xlarge"
	// goldenDir holds the golden reports (testkit.Golden, -update).
	goldenDir = "testdata/golden"
)

// loadFixture loads a synthetic results directory; each call returns an
// independent copy that a test may modify.
func loadFixture(t *testing.T, dir string) *Sweep {
	t.Helper()
	s, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	return s
}

// mustContain fails unless s contains every one of subs.
func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q", what, sub)
		}
	}
}
