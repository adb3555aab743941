package server

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
)

// FreeBytes returns the space available to this user on the file system
// that holds path, or would hold it (the nearest existing ancestor).
func FreeBytes(path string) (uint64, string, error) {
	p := filepath.Clean(path)
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), p, nil
		}
		parent := filepath.Dir(p)
		if !errors.Is(err, fs.ErrNotExist) || parent == p {
			return 0, p, err
		}
		p = parent
	}
}
