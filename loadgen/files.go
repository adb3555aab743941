package loadgen

import (
	"fmt"
	"os"
	"path/filepath"
)

// phaseFiles are a phase's streamed outputs, written to temporary files and
// renamed into place only when the phase has produced its result.
type phaseFiles struct {
	hlog, requests, scores *os.File
	final                  map[*os.File]string
}

func openPhaseFiles(dir, phase string, requests, scores bool) (*phaseFiles, error) {
	f := &phaseFiles{final: map[*os.File]string{}}
	open := func(name string) (*os.File, error) {
		tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		f.final[tmp] = filepath.Join(dir, name)
		return tmp, nil
	}
	var err error
	if f.hlog, err = open(phase + ".hlog"); err != nil {
		return nil, err
	}
	if requests {
		if f.requests, err = open(phase + ".requests.jsonl"); err != nil {
			f.abort()
			return nil, err
		}
	}
	if scores {
		if f.scores, err = open(phase + ".scores.jsonl"); err != nil {
			f.abort()
			return nil, err
		}
	}
	return f, nil
}

// commit syncs, closes and renames every file into place.
func (f *phaseFiles) commit() error {
	for tmp, final := range f.final {
		err := tmp.Sync()
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), final)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", final, err)
		}
		delete(f.final, tmp)
	}
	return nil
}

// abort removes whatever was not committed.
func (f *phaseFiles) abort() {
	for tmp := range f.final {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	f.final = map[*os.File]string{}
}
