package loadgen

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"loadgen/loadgen/merge"
)

// phaseFiles are a phase's streamed outputs, written to temporary files:
// the phase's own files are renamed into place only when the phase has
// produced its result; scratch files (a client's share of a phase split in
// this process, before the merge) are removed in any case.
type phaseFiles struct {
	dir     string
	final   map[*os.File]string
	scratch []*os.File
}

func newPhaseFiles(dir string) *phaseFiles {
	return &phaseFiles{dir: dir, final: map[*os.File]string{}}
}

// create opens a temporary file that commit renames to name.
func (f *phaseFiles) create(name string) (*os.File, error) {
	tmp, err := os.CreateTemp(f.dir, "."+name+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	f.final[tmp] = filepath.Join(f.dir, name)
	return tmp, nil
}

// temp opens a scratch file, removed at the end.
func (f *phaseFiles) temp(name string) (*os.File, error) {
	tmp, err := os.CreateTemp(f.dir, "."+name+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	f.scratch = append(f.scratch, tmp)
	return tmp, nil
}

// open opens a run's outputs: the phase's own (suffix ""), or a client's
// share of a phase split here (suffix ".client-<i>"): its hlog and scores
// are scratch for the merge, its requests log is kept under its name.
func (f *phaseFiles) open(cr *clientRun, phase, suffix string, requests, scores bool) error {
	share := f.create
	if suffix != "" {
		share = f.temp
	}
	var err error
	if cr.hlog, err = share(phase + suffix + ".hlog"); err != nil {
		return err
	}
	if requests {
		if cr.requests, err = f.create(phase + suffix + ".requests.jsonl"); err != nil {
			return err
		}
	}
	if scores {
		if cr.scores, err = share(phase + suffix + ".scores.jsonl"); err != nil {
			return err
		}
	}
	return nil
}

// mergeOutputs writes the merged phase's .hlog and its clients' scores
// one after another, as the phase's own files.
func (f *phaseFiles) mergeOutputs(phase string, runs []*clientRun, merged *merge.Phase) error {
	h, err := f.create(phase + ".hlog")
	if err != nil {
		return err
	}
	if err := merge.WriteHlog(h, merged.Result, merged.Intervals); err != nil {
		return fmt.Errorf("write %s.hlog: %w", phase, err)
	}
	if runs[0].scores == nil {
		return nil
	}
	sc, err := f.create(phase + ".scores.jsonl")
	if err != nil {
		return err
	}
	for _, cr := range runs {
		if _, err := cr.scores.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("read %s: %w", cr.scores.Name(), err)
		}
		if _, err := io.Copy(sc, cr.scores); err != nil {
			return fmt.Errorf("write %s.scores.jsonl: %w", phase, err)
		}
	}
	return nil
}

// commit syncs, closes and renames every file into place, and removes
// the scratch files.
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
	f.abort()
	return nil
}

// abort removes whatever was not committed, and the scratch files.
func (f *phaseFiles) abort() {
	for tmp := range f.final {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	for _, tmp := range f.scratch {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	f.scratch, f.final = nil, map[*os.File]string{}
}
