package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a goroutine-safe buffer: a sink for the output of a child
// process or of concurrent writers that a test reads while they write. Its
// zero value is ready; NewStampedBuffer makes one that stamps every write.
type SyncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	stamp bool
}

// NewStampedBuffer returns a SyncBuffer that starts every write (one
// progress line) with the time, seconds and milliseconds, for the log of a
// failed test.
func NewStampedBuffer() *SyncBuffer { return &SyncBuffer{stamp: true} }

// Write appends p, after the time when the buffer stamps its writes.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stamp {
		s.b.WriteString(time.Now().Format("05.000 "))
	}
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// CopyDir copies the directory tree src (a fixture or a results directory)
// into a new temporary directory, for a test to change, and returns the
// copy's path.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// ReadJSON decodes the JSON file at path into v, failing the test when it
// cannot.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Endless is an input that never ends: every Read fills its buffer with
// the byte (as /dev/zero does with 0).
type Endless byte

// Read fills p with e.
func (e Endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}
