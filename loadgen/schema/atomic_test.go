package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	for _, data := range []string{"first", "second, longer"} {
		if err := WriteFileAtomic(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != data {
			t.Errorf("read %q, want %q", got, data)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	assertNoTemp(t, dir)
}

func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
	}{
		// The directory does not exist: CreateTemp fails, nothing is left.
		{"missing dir", filepath.Join(dir, "nope", "x.json")},
		// The target is a directory: the rename fails after the temp file
		// was written, and the temp file is removed.
		{"target is a dir", dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteFileAtomic(tc.path, []byte("x"))
			if err == nil || !strings.Contains(err.Error(), "write") {
				t.Fatalf("err = %v, want a write error", err)
			}
			assertNoTemp(t, dir)
			assertNoTemp(t, filepath.Dir(dir))
		})
	}
}

// TestWriteFileAtomicConcurrentReaders rewrites a file many times while
// readers read it: every read sees one complete version, never a mix or a
// truncated file.
func TestWriteFileAtomicConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.json")
	versions := [][]byte{bytes.Repeat([]byte("a"), 1<<19), bytes.Repeat([]byte("b"), 3<<18)}
	if err := WriteFileAtomic(path, versions[0]); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg, ready sync.WaitGroup
	bad := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			for first := true; ; first = false {
				got, err := os.ReadFile(path)
				if first {
					ready.Done() // the writer starts once every reader has read once
				}
				switch {
				case err != nil:
					bad <- err.Error()
					return
				case !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]):
					bad <- "read a torn or truncated file"
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	ready.Wait()
	for i := range 20 {
		if err := WriteFileAtomic(path, versions[i%2]); err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
	close(bad)
	for msg := range bad {
		t.Error(msg)
	}
	assertNoTemp(t, dir)
}

func TestWriteJSONAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.json")
	if err := WriteJSONAtomic(path, map[string]string{"a": "<b>"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "{\n  \"a\": \"<b>\"\n}\n"; string(got) != want {
		t.Errorf("got %q, want %q (indented, HTML not escaped, trailing newline)", got, want)
	}
	if err := WriteJSONAtomic(path, func() {}); err == nil {
		t.Error("encoding a func must fail")
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	left, err := TempFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range left {
		t.Errorf("temporary file %s left behind", f)
	}
}
