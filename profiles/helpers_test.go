package profiles

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

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
