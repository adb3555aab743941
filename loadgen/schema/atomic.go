package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic writes data to path so that readers see either the old
// file or the complete new one, never a truncated file: it writes a
// temporary file in the same directory, fsyncs it, renames it over path and
// fsyncs the directory. The file gets mode 0644. On error the temporary
// file is removed and path is left as it was.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tempMark+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some file
// systems do not support fsync on directories, and the rename itself has
// already happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// WriteJSONAtomic encodes v as indented JSON (two spaces, trailing newline,
// HTML characters not escaped) and writes it with WriteFileAtomic.
func WriteJSONAtomic(path string, v any) error {
	b, err := Encode(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, b)
}

// Encode is the one JSON encoding of every result file: indented by two
// spaces, a trailing newline, HTML characters not escaped.
func Encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// tempMark is in the name of every temporary file WriteFileAtomic creates
// (".<name>.tmp-<random>"), so that leftovers of a killed process can be
// found and removed.
const tempMark = ".tmp-"

// TempFiles lists the temporary files WriteFileAtomic left in dir (a
// process killed between create and rename leaves one), as paths.
func TempFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, ".") && strings.Contains(n, tempMark) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}
