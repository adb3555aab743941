package loadgen

import (
	"fmt"
	"path/filepath"
	"sync"

	"loadgen/loadgen/schema"
)

// writeLog makes every failed write of the sweep visible (a full disk, a
// directory gone read-only): each failure is printed as it happens — a run
// of identical failures of one file once — and the outcome lists every
// file that failed, with how often.
type writeLog struct {
	mu     sync.Mutex
	dir    string
	pr     *Printer
	files  []string          // in the order they first failed
	counts map[string]int    // failures per file
	last   map[string]string // the last failure printed per file ("" after a success)
}

func newWriteLog(dir string, pr *Printer) *writeLog {
	return &writeLog{dir: dir, pr: pr, counts: map[string]int{}, last: map[string]string{}}
}

// note records the outcome of one write of path.
func (w *writeLog) note(path string, err error) {
	if w == nil {
		return
	}
	name := path
	if rel, rerr := filepath.Rel(w.dir, path); rerr == nil {
		name = rel
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		if w.last[name] != "" {
			w.pr.Eventf("%s written again after %d failed write(s)", name, w.counts[name])
			w.last[name] = ""
		}
		return
	}
	if w.counts[name] == 0 {
		w.files = append(w.files, name)
	}
	w.counts[name]++
	if msg := err.Error(); msg != w.last[name] {
		w.pr.Eventf("WRITE FAILED: %s: %s", name, msg)
		w.last[name] = msg
	}
}

// failures lists, per file, how many writes failed and the last error.
func (w *writeLog) failures() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, f := range w.files {
		out = append(out, fmt.Sprintf("%s: %d write(s) failed (%s)", f, w.counts[f], w.last[f]))
	}
	return out
}

// writeFile writes one of the sweep's files atomically and notes how it
// went.
func (s *sweeper) writeFile(path string, data []byte) error {
	err := s.o.writeFile(path, data)
	s.writes.note(path, err)
	return err
}

// writeJSON encodes v as every result file is encoded and writes it with
// writeFile.
func (s *sweeper) writeJSON(path string, v any) error {
	b, err := schema.Encode(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return s.writeFile(path, b)
}
