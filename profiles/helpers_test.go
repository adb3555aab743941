package profiles

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// shippedFS is a copy of the embedded FS that tests may modify.
func shippedFS(t *testing.T) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(shipped, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(shipped, path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// loadShippedForTest loads a shipped profile as LoadShipped does, from
// shippedFS.
func loadShippedForTest(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := loadFS(shippedFS(t), name, shippedPrefix+name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustParse parses a profile written inline; its path is "p.yaml" in the
// package directory, so "testdata/sample.csv" is a valid dataset.
func mustParse(t *testing.T, src string) *Profile {
	t.Helper()
	p, err := Parse([]byte(src), "p.yaml")
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

// expand expands p with no options and fails the test on error.
func expand(t *testing.T, p *Profile) *Plan {
	t.Helper()
	pl, err := p.Expand(ExpandOptions{})
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return pl
}

// minimal is the start of a valid profile; tests append base:, server:,
// load: and so on.
const minimal = `name: t
model: /models/m
tensor_parallel_size: 2
workload:
  dataset: testdata/sample.csv
`
