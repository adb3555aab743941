package merge

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/schema"
)

// copyTree copies the regular files of src into dst (created), recursing
// into directories, leaving out hidden files (temporary files of an
// interrupted write, locks) and, when keep is given, the files of src
// itself it refuses.
func copyTree(src, dst string, keep ...func(name string) bool) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		from, to := filepath.Join(src, name), filepath.Join(dst, name)
		switch {
		case e.IsDir():
			if len(keep) == 0 {
				if err := copyTree(from, to); err != nil {
					return err
				}
			}
		case e.Type().IsRegular():
			if len(keep) > 0 && !keep[0](name) {
				continue
			}
			if err := copyFile(from, to); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyFile copies src to dst atomically (a temporary file renamed into
// place).
func copyFile(src, dst string) error {
	return concatFiles([]string{src}, dst)
}

// concatFiles writes the files srcs one after another to dst, atomically.
func concatFiles(srcs []string, dst string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for _, src := range srcs {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		_, err = io.Copy(tmp, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// writeHlog writes a merged phase's interval log to path (WriteHlog).
func writeHlog(path string, res *schema.PhaseResult, intervals []*hdr.Histogram) error {
	var b bytes.Buffer
	if err := WriteHlog(&b, res, intervals); err != nil {
		return err
	}
	return schema.WriteFileAtomic(path, b.Bytes())
}

// WriteHlog writes the interval log of a phase merged from its clients'
// shares: every share's intervals, by start time, on the merged phase's
// time base (its started_at).
func WriteHlog(w io.Writer, res *schema.PhaseResult, intervals []*hdr.Histogram) error {
	hw := schema.NewHlogWriter(w, res.StartedAt, res.Simulated, res.Phase+" (merged from its clients)")
	for _, h := range intervals {
		hw.Write(h)
	}
	return hw.Flush()
}
