package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
	"loadgen/server/servertest"
)

// fileState is a file's content and modification time.
type fileState struct {
	data  []byte
	mtime time.Time
}

// snapshotDir records every regular file under dir.
func snapshotDir(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = fileState{data: b, mtime: fi.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertUntouched checks that every file recorded in before is still
// there, with the same content and modification time.
func assertUntouched(t *testing.T, before map[string]fileState) {
	t.Helper()
	if len(before) == 0 {
		t.Fatal("nothing recorded to compare")
	}
	for path, was := range before {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, was.data) || !fi.ModTime().Equal(was.mtime) {
			t.Errorf("%s was rewritten by the resumed sweep", path)
		}
	}
}

const resumeLoad = `load:
  - arrival: sync
  - arrival: poisson
    rate: 20
    queries: 4
    seed: 1
`

// TestResumeRerunsFailedConfig fails one config at startup (stale compiled
// artifacts), removes the cause, resumes, and checks that only the failed
// config runs while the finished one's files stay as they were.
func TestResumeRerunsFailedConfig(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "resume", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: two
    enable_prefix_caching: true
    pa_num_blocks: 64
`+resumeLoad)
	o, _ := simOptions(t, p)
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	stale := plan.Configs[1].ArtifactsDir
	servertest.WriteStaleArtifacts(t, stale, true)
	first := runSweep(t, o)
	if first.Passed != 1 || first.Failed != 1 {
		t.Fatalf("first sweep: %+v, want one passed and one failed", *first)
	}
	wantStatuses(t, readManifest(t, o.Out), "two", schema.StatusFailed, map[string]string{"sync": schema.StatusSkipped})
	oneFiles := snapshotDir(t, filepath.Join(o.Out, "one"))

	second, progress := resumeWithout(t, p, o, stale)
	if second.Passed != 2 || second.Failed != 0 || second.Interrupted {
		t.Errorf("resumed sweep: %+v, want 2 passed", *second)
	}
	m := readManifest(t, o.Out)
	if m.Status != schema.SweepCompleted {
		t.Errorf("manifest status %q after the resume, want completed", m.Status)
	}
	for _, c := range []string{"one", "two"} {
		cs := wantStatuses(t, m, c, schema.StatusOK, map[string]string{"sync": schema.StatusOK, "poisson-20": schema.StatusOK})
		if cs.FailureClass != "" || cs.Reason != "" {
			t.Errorf("config %s keeps failure %q %q after a successful resume", c, cs.FailureClass, cs.Reason)
		}
	}
	checkPhaseFiles(t, o.Out, "two", "sync", 3)
	checkPhaseFiles(t, o.Out, "two", "poisson-20", 4)
	if st := servertest.ReadStartup(t, o.Out, "two"); st.FailureClass != "" || !st.Ready {
		t.Errorf("two/startup.json after the resume: class %q ready %v", st.FailureClass, st.Ready)
	}
	assertUntouched(t, oneFiles)
	if s := progress.String(); !strings.Contains(s, "[1/2] one: already done (resume)") || strings.Contains(s, "[1/2] one: starting") {
		t.Errorf("progress of the resume does not skip config one:\n%s", s)
	}
	servertest.AssertServerGone(t, o.Out, "two")
	var sum report.Summary
	testkit.ReadJSON(t, filepath.Join(o.Out, report.SummaryJSONFile), &sum)
	if sum.Status != schema.SweepCompleted || len(sum.Ranking) != 2 || sum.Ranking[0].Rank == 0 || sum.Ranking[1].Rank == 0 {
		t.Errorf("summary after the resume: status %q, ranking %+v; want both configs ranked", sum.Status, sum.Ranking)
	}
}

// resumeWithout deletes the stale artifacts, as the failure reason says,
// and resumes the sweep o ran; it returns the outcome and the progress.
func resumeWithout(t *testing.T, p *profiles.Profile, o Options, stale string) (*Outcome, *testkit.SyncBuffer) {
	t.Helper()
	if err := os.RemoveAll(stale); err != nil {
		t.Fatal(err)
	}
	r, progress := simOptions(t, p)
	r.Out, r.Resume, r.Sim.ArtifactsRoot = o.Out, true, o.Sim.ArtifactsRoot
	return runSweep(t, r), progress
}

// TestResumeRerunsVoidedConfig: a config whose run was voided by stale
// compiled artifacts (the plugin ignored its overrides) finished all its
// phases, yet none of them stands: --resume runs them all again and keeps
// the earlier server log.
func TestResumeRerunsVoidedConfig(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "voided", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
`+resumeLoad)
	o, _ := simOptions(t, p)
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	stale := plan.Configs[0].ArtifactsDir
	servertest.WriteStaleArtifacts(t, stale, false)
	if first := runSweep(t, o); first.Failed != 1 {
		t.Fatalf("first sweep: %+v, want the voided config counted as failed", *first)
	}
	cs := wantStatuses(t, readManifest(t, o.Out), "one", schema.StatusOK, map[string]string{"sync": schema.StatusOK})
	if cs.FailureClass != string(schema.FailureInvalidConfig) {
		t.Fatalf("failure class %q, want invalid_config", cs.FailureClass)
	}

	if second, _ := resumeWithout(t, p, o, stale); second.Passed != 1 || second.Failed != 0 {
		t.Errorf("resumed sweep: %+v, want it passed", *second)
	}
	cs = wantStatuses(t, readManifest(t, o.Out), "one", schema.StatusOK, map[string]string{"sync": schema.StatusOK, "poisson-20": schema.StatusOK})
	if cs.FailureClass != "" {
		t.Errorf("failure class %q after the resume", cs.FailureClass)
	}
	if _, err := os.Stat(filepath.Join(o.Out, "one", "server.1.log")); err != nil {
		t.Errorf("the voided attempt's log was not kept: %v", err)
	}
	servertest.AssertServerGone(t, o.Out, "one")
}

// TestResumeRefusals checks the inputs --resume refuses before it starts
// anything: a changed profile, a different mode (real vs simulated), a
// directory without a manifest, and a new sweep into a used directory.
func TestResumeRefusals(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "refuse", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
`+resumeLoad)
	o, _ := simOptions(t, p)
	runSweep(t, o)
	manifest := filepath.Join(o.Out, schema.ManifestFile)
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}

	// The manifest records the dataset's content.
	dataset := filepath.Join(filepath.Dir(p.Path), "q.csv")
	b, err := os.ReadFile(dataset)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if in := readManifest(t, o.Out).Input(schema.InputDataset); in == nil || in.SHA256 != hex.EncodeToString(sum[:]) || in.Bytes != int64(len(b)) || in.Path != dataset {
		t.Errorf("manifest inputs: %+v, want the dataset's sha256 %x", in, sum)
	}

	changed := writeProfile(t, "refuse", `configs:
  - name: one
    enable_prefix_caching: false
    pa_num_blocks: 2
`+strings.Replace(resumeLoad, "queries: 4", "queries: 5", 1))
	for _, tc := range []struct {
		name    string
		profile *profiles.Profile
		edit    func(*Options)
		want    string
	}{
		// One more query changes the resolved profile: its results
		// cannot be mixed with the stored ones.
		{"changed profile", changed, func(o *Options) { o.Resume = true }, "the profile changed since that sweep"},
		// A simulated sweep resumed on real servers would mix SIMULATED
		// numbers into a real report.
		{"without --simulate", p, func(o *Options) { o.Resume, o.Simulate = true, false }, "that sweep ran with --simulate; resume it the same way"},
		// --resume needs a directory to continue.
		{"no directory", p, func(o *Options) { o.Resume, o.Out = true, "" }, "--resume needs the results directory"},
		// A directory without manifest.json is not a sweep.
		{"no manifest", p, func(o *Options) { o.Resume, o.Out = true, t.TempDir() }, "no manifest.json there"},
		// A new sweep never overwrites stored results.
		{"new sweep into used dir", p, func(o *Options) {}, "already holds results"},
		// The same profile over a changed dataset: configs measured on
		// different data would be ranked together.
		{"changed dataset", p, func(o *Options) {
			o.Resume = true
			f, err := os.OpenFile(dataset, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteString("another query,a,b,c,d\n")
				f.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
		}, "the dataset changed since that sweep (" + dataset + ": sha256 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := o
			r.Profile = tc.profile
			tc.edit(&r)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := preflightRun(ctx, r)
			if !errors.Is(err, ErrBadInput) || out != nil {
				t.Fatalf("Run = %v, %v; want ErrBadInput and no outcome", out, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	after, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a refused resume rewrote manifest.json")
	}
	if st := servertest.ReadStartup(t, o.Out, "one"); st.FailureClass != schema.FailureNone {
		t.Errorf("startup.json changed class to %q: %s", st.FailureClass, st.Reason)
	}
}
