package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

// TestResultsDirInUse: a results directory another process holds (its
// lock) is refused, for a resume and for a new sweep, naming the holder's
// pid, before anything starts; once the holder is gone it is usable.
func TestResultsDirInUse(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "inuse", "configs:\n  - name: one\n    enable_prefix_caching: false\n    pa_num_blocks: 2\n"+resumeLoad)
	o, _ := simOptions(t, p)
	runSweep(t, o)
	if _, err := os.Stat(filepath.Join(o.Out, schema.LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the finished sweep left its lock file: %v", err)
	}
	// Another writer holds the directory (flock(2) keeps two open files of
	// one process apart as it keeps two processes apart).
	holder, err := schema.LockDir(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("is in use by another loadgen (pid %d)", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, resume := range []bool{true, false} {
		r := o
		r.Resume = resume
		out, err := preflightRun(ctx, r)
		if !errors.Is(err, ErrBadInput) || out != nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resume %v: %v, %v; want ErrBadInput saying %q", resume, out, err, want)
		}
	}
	// The holder goes; its directory can be resumed (nothing to do).
	holder.Unlock()
	r := o
	r.Resume = true
	if out := runSweep(t, r); out.Passed != 1 {
		t.Errorf("resume after the holder left: %+v", out)
	}
}

// TestResultsDirLeftovers: the temporary files a killed run leaves (in the
// directory, a config's directory, plots/) are removed when the sweep
// resumes, under its lock, and it says so.
func TestResultsDirLeftovers(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "leftovers", "configs:\n  - name: one\n    enable_prefix_caching: false\n    pa_num_blocks: 2\n"+resumeLoad)
	o, progress := simOptions(t, p)
	runSweep(t, o)
	left := []string{".manifest.json.tmp-42", "one/.sync.hlog.tmp-7", "plots/.cdf-sync.svg.tmp-1"}
	for _, f := range left {
		if err := os.WriteFile(filepath.Join(o.Out, f), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := o
	r.Resume = true
	runSweep(t, r)
	for _, f := range left {
		if _, err := os.Stat(filepath.Join(o.Out, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the resume: %v", f, err)
		}
	}
	if !strings.Contains(progress.String(), "removed 3 temporary file(s) an earlier run left in "+o.Out) {
		t.Errorf("progress does not mention the removal:\n%s", progress)
	}
}

// TestResultsDirUncreatable: a results directory that cannot be created is
// bad input (exit 2), found before any server starts.
func TestResultsDirUncreatable(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "uncreatable", "configs:\n  - name: one\n    enable_prefix_caching: false\n    pa_num_blocks: 2\n"+resumeLoad)
	o, progress := simOptions(t, p)
	o.Out = "/dev/null/results" // below a file: ENOTDIR, even for root
	out, err := preflightRun(context.Background(), o)
	if !errors.Is(err, ErrBadInput) || out != nil || !strings.Contains(err.Error(), "cannot create the results directory") {
		t.Errorf("Run = %v, %v; want ErrBadInput", out, err)
	}
	if strings.Contains(progress.String(), "starting") {
		t.Errorf("a server was started:\n%s", progress)
	}
}
