package loadgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"loadgen/loadgen/schema"
)

// openResults picks the results directory, creates it for a new sweep,
// takes its lock for the life of the sweep (schema.LockDir: another
// process writing into it is refused, naming its pid) and, under the lock,
// removes the temporary files a killed run left there. It returns how many
// it removed. A directory that cannot be created or written, one in use,
// and a new sweep into a directory that holds results are bad input.
func openResults(o Options) (dir string, lock *schema.DirLock, leftovers int, err error) {
	dir = o.Out
	if dir == "" {
		dir = filepath.Join("results", o.Profile.Name+"-"+o.Now().Format("20060102-150405"))
	}
	if !o.Resume { // resumeManifest has checked that the directory exists
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, 0, fmt.Errorf("%w: cannot create the results directory: %w", ErrBadInput, err)
		}
	}
	if lock, err = lockResults(dir); err != nil {
		return "", nil, 0, err
	}
	if !o.Resume {
		if used, err := holdsResults(dir); err != nil || used {
			lock.Unlock()
			if err != nil {
				return "", nil, 0, fmt.Errorf("%w: results directory: %w", ErrBadInput, err)
			}
			return "", nil, 0, fmt.Errorf("%w: results directory %s already holds results: choose another --out, or continue it with --resume %s", ErrBadInput, dir, dir)
		}
	}
	if leftovers, err = schema.RemoveTempFiles(dir); err != nil {
		lock.Unlock()
		return "", nil, 0, fmt.Errorf("%w: results directory %s: removing the temporary files of an earlier run: %w", ErrBadInput, dir, err)
	}
	return dir, lock, leftovers, nil
}

// lockResults takes dir's lock; every failure is bad input (a directory in
// use, or one this process cannot write into).
func lockResults(dir string) (*schema.DirLock, error) {
	lock, err := schema.LockDir(dir)
	var le *schema.LockedError
	switch {
	case errors.As(err, &le):
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	case err != nil:
		return nil, fmt.Errorf("%w: results directory %s cannot be written: %w", ErrBadInput, dir, err)
	}
	return lock, nil
}

// holdsResults reports whether dir holds anything but its lock file.
func holdsResults(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if e.Name() != schema.LockFile {
			return true, nil
		}
	}
	return false, nil
}
