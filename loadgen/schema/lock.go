package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// LockFile is the lock of a results directory: a process that writes into
// the directory (a sweep, `loadgen run --out`, `loadgen report`) holds an
// exclusive flock(2) on it for as long as it writes, and the file holds its
// pid. The kernel releases the lock when the holder dies however it dies
// (kill -9 included), so a lock file that exists but is not locked is stale
// and the next writer takes it over.
const LockFile = ".loadgen.lock"

// LockedError is the error of LockDir when another process holds the
// directory.
type LockedError struct {
	Dir string
	// PID is the holder's process id as its lock file says, 0 if unknown.
	PID int
}

func (e *LockedError) Error() string {
	who := "another loadgen"
	if e.PID > 0 {
		who = fmt.Sprintf("another loadgen (pid %d)", e.PID)
	}
	return fmt.Sprintf("results directory %s is in use by %s: wait for it to finish or stop it; two processes must not write into one results directory", e.Dir, who)
}

// DirLock is a held lock of a results directory.
type DirLock struct {
	f    *os.File
	path string
	once sync.Once
}

// LockDir takes the lock of the results directory dir for this process,
// or fails with a *LockedError naming the holder. A stale lock file (its
// process gone) is taken over. Unlock releases it.
func LockDir(dir string) (*DirLock, error) {
	path := filepath.Join(dir, LockFile)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock results directory: %w", err)
		}
		if err := flock(f); err != nil {
			pid := readPID(f)
			f.Close()
			if err == errLocked {
				return nil, &LockedError{Dir: dir, PID: pid}
			}
			return nil, fmt.Errorf("lock results directory %s: %w", dir, err)
		}
		// The holder before us removes the file as it unlocks: a lock on
		// a file no longer at path holds nothing. Try again on the new one.
		held, _ := f.Stat()
		now, err := os.Stat(path)
		if err != nil || !os.SameFile(held, now) {
			f.Close()
			continue
		}
		if err := writePID(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock results directory %s: %w", dir, err)
		}
		return &DirLock{f: f, path: path}, nil
	}
}

// Unlock releases the lock and removes the lock file. It is safe to call
// on a nil lock, more than once and from several goroutines.
func (l *DirLock) Unlock() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		os.Remove(l.path) // before the lock goes: see LockDir
		l.f.Close()
	})
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	return pid
}

// RemoveTempFiles removes the temporary files (TempFiles) that a process
// killed mid-write left in dir and in its subdirectories (configs,
// plots), and returns how many it removed. Call it holding dir's lock: the
// temporary files of a live writer are not leftovers.
func RemoveTempFiles(dir string) (int, error) {
	dirs := []string{dir}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(dir, e.Name()))
		}
	}
	n := 0
	for _, d := range dirs {
		tmps, err := TempFiles(d)
		if err != nil {
			return n, err
		}
		for _, t := range tmps {
			if err := os.Remove(t); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
