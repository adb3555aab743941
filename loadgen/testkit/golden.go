package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// update is -update, registered once for every test binary that links
// testkit.
var update = flag.Bool("update", false, "rewrite golden files")

// Updating reports whether the tests run with -update: tests that rewrite
// fixtures in their own way (a TestMain regenerating a results directory)
// ask it after flag.Parse.
func Updating() bool { return *update }

// Golden compares got with the golden file at path (relative to the
// package directory) and fails t at the first line that differs; under
// -update it writes got to path instead, creating its directory.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	line, g, w := firstDifference(string(got), string(want))
	t.Errorf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test -update if the change is intended)", path, line, g, w)
}

// firstDifference returns the number of the first line at which got and
// want differ, and that line of each, quoted, or "end of file" where one
// of them has no such line.
func firstDifference(got, want string) (line int, g, w string) {
	gl, wl := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	quoted := func(lines []string, i int) string {
		if i < len(lines) && lines[i] != "" {
			return strconv.Quote(lines[i])
		}
		return "end of file"
	}
	for i := 0; ; i++ {
		if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
			return i + 1, quoted(gl, i), quoted(wl, i)
		}
	}
}
