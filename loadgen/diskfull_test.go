package loadgen

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

// fullDisk is a writeFile seam: the first write (the sweep's first
// manifest) succeeds, then the disk is full — every write fails with
// ENOSPC, and the report cannot be written either (a directory where
// summary.md would go makes its rename fail, as ENOSPC would).
type fullDisk struct {
	dir    string
	mu     sync.Mutex
	writes int
}

func (d *fullDisk) write(path string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	if d.writes == 1 {
		return schema.WriteFileAtomic(path, data)
	}
	if d.writes == 2 {
		if err := os.Mkdir(filepath.Join(d.dir, "summary.md"), 0o755); err != nil {
			return err
		}
	}
	return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
}

// TestDiskFull: when the disk fills mid-sweep every failed write is
// printed (a run of identical failures of one file once) and listed in the
// outcome; the outcome and its table agree (the config failed, though
// manifest.json on disk could not say so), and no report is claimed.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "full", "configs:\n  - name: one\n    enable_prefix_caching: false\n    pa_num_blocks: 2\nload:\n  - arrival: sync\n")
	o, progress := simOptions(t, p)
	disk := &fullDisk{dir: o.Out}
	o.writeFile = disk.write
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := preflightRun(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "writing the report") || out == nil {
		t.Fatalf("Run = %+v, %v; want the outcome and the report's error", out, err)
	}
	if out.Report != "" {
		t.Errorf("the outcome claims a report: %s", out.Report)
	}
	if out.Failed != 1 || out.Passed != 0 {
		t.Errorf("outcome %d passed, %d failed; want the config failed (its phase result could not be written)", out.Passed, out.Failed)
	}
	if cs := out.Sweep.Config("one"); cs == nil || cs.Status.Status != schema.StatusFailed {
		t.Errorf("the outcome's sweep says %+v, want config one failed as the counts do", cs)
	}
	for _, f := range []string{"manifest.json: ", "one/command.txt: 1 write(s) failed", "one/startup.json: ", "one/sync.json: 1 write(s) failed"} {
		if !strings.Contains(strings.Join(out.WriteErrors, "\n"), f) {
			t.Errorf("write errors lack %q: %q", f, out.WriteErrors)
		}
	}
	log := progress.String()
	if n := strings.Count(log, "WRITE FAILED: manifest.json: "); n != 1 {
		t.Errorf("manifest.json failures printed %d times, want once (identical failures collapse):\n%s", n, log)
	}
	for _, f := range []string{"WRITE FAILED: one/command.txt: ", "WRITE FAILED: one/startup.json: ", "no space left on device"} {
		if !strings.Contains(log, f) {
			t.Errorf("progress lacks %q:\n%s", f, log)
		}
	}
	// manifest.json is behind: it still says what the first write said.
	if m := readManifest(t, o.Out); m.Status != schema.SweepRunning || m.Config("one").Status != schema.StatusPending {
		t.Errorf("on-disk manifest %q/%q: the test's disk did not fill", m.Status, m.Config("one").Status)
	}
	if _, err := os.Stat(filepath.Join(o.Out, "report.html")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("report.html: %v", err)
	}
}
