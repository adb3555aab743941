package loadgen

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"loadgen/loadgen/merge"
	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
)

// threeConfigs are three small configurations and two phases.
const threeConfigs = `configs:
  - name: c
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: a
    enable_prefix_caching: true
    pa_num_blocks: 64
  - name: b
    enable_prefix_caching: false
    pa_num_blocks: 2
    max_model_len: 1024
load:
  - arrival: sync
  - arrival: poisson
    rate: 20
    queries: 4
    seed: 1
`

// configFiles lists the files of every configuration directory of a
// results directory, as config/file.
func configFiles(t *testing.T, dir string, m *schema.Manifest) []string {
	t.Helper()
	var out []string
	for _, c := range m.Configs {
		ents, err := os.ReadDir(filepath.Join(dir, c.Name))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			out = append(out, c.Name+"/"+e.Name())
		}
	}
	return out
}

func configNames(m *schema.Manifest) []string {
	var out []string
	for _, c := range m.Configs {
		out = append(out, c.Name+":"+c.Status)
	}
	return out
}

// TestShardsMergeToTheSerialSweep runs a sweep whole and as two shards,
// merges the shards (given in the other order), and checks that the merged
// directory holds the serial sweep's configurations, statuses and files,
// reads back without problems, and resumes as a finished sweep.
func TestShardsMergeToTheSerialSweep(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "shards", threeConfigs)
	serial, _ := simOptions(t, p)
	runSweep(t, serial)

	var shards []string
	for i := range 2 {
		o, _ := simOptions(t, p)
		o.Shard = &schema.Part{Index: i, Count: 2}
		out := runSweep(t, o)
		m := readManifest(t, o.Out)
		// Sorted a, b, c: shard 0 takes a and c, shard 1 b; in profile order.
		want := [][]string{{"c", "a"}, {"b"}}[i]
		if m.Shard == nil || m.Shard.Part != *o.Shard || !slices.Equal(m.Shard.Configs, want) ||
			!slices.Equal(m.Shard.Of, []string{"c", "a", "b"}) || m.Shard.Rule != schema.ShardRule || out.Passed != len(want) {
			t.Fatalf("shard %d: manifest records %+v, %d passed; want configs %v of [c a b]", i, m.Shard, out.Passed, want)
		}
		shards = append(shards, o.Out)
	}
	merged := filepath.Join(t.TempDir(), "merged")
	res, err := merge.Dirs(merged, []string{shards[1], shards[0]}, merge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Configs != 3 || len(res.Pending) != 0 {
		t.Errorf("merge outcome %+v, want 3 configs, none pending", res)
	}
	want, got := readManifest(t, serial.Out), readManifest(t, merged)
	if !slices.Equal(configNames(got), configNames(want)) || got.Status != want.Status || got.ProfileHash != want.ProfileHash || got.Shard != nil {
		t.Errorf("merged manifest: %v %s hash %.12s shard %v; serial: %v %s hash %.12s",
			configNames(got), got.Status, got.ProfileHash, got.Shard, configNames(want), want.Status, want.ProfileHash)
	}
	if len(got.MergedFrom) != 2 || got.MergedFrom[0].Shard == nil || *got.MergedFrom[0].Shard != (schema.Part{Index: 1, Count: 2}) {
		t.Errorf("merged_from %+v, want both shards in the order given", got.MergedFrom)
	}
	if g, w := configFiles(t, merged, got), configFiles(t, serial.Out, want); !slices.Equal(g, w) {
		t.Errorf("merged files\n%v\nserial files\n%v", g, w)
	}
	for _, c := range want.Configs {
		for _, ph := range c.Phases {
			var a, b schema.PhaseResult
			testkit.ReadJSON(t, filepath.Join(serial.Out, schema.PhaseFile(c.Name, ph.Name)), &a)
			testkit.ReadJSON(t, filepath.Join(merged, schema.PhaseFile(c.Name, ph.Name)), &b)
			if a.QueriesCompleted != b.QueriesCompleted || a.Completed != b.Completed || b.Config != c.Name {
				t.Errorf("%s/%s: merged %d queries %d requests, serial %d %d", c.Name, ph.Name, b.QueriesCompleted, b.Completed, a.QueriesCompleted, a.Completed)
			}
		}
	}
	sw, err := report.Load(merged)
	if err != nil || len(sw.Problems) > 0 {
		t.Fatalf("report of the merged sweep: %v %q", err, sw.Problems)
	}
	if err := report.Render(merged, sw); err != nil {
		t.Fatal(err)
	}
	checkReportFiles(t, merged)

	// The merged sweep resumes as the whole sweep, and has nothing to run.
	o, progress := simOptions(t, p)
	o.Out, o.Resume = merged, true
	out := runSweep(t, o)
	if out.Passed != 3 || !strings.Contains(progress.String(), "already done (resume)") || strings.Contains(progress.String(), "starting") {
		t.Errorf("resuming the merged sweep: %+v\n%s", *out, progress)
	}
}

// TestMergeMissingShardResumes merges one shard of two with AllowMissing:
// the other shard's configurations are pending, and --resume runs them.
func TestMergeMissingShardResumes(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "missing", threeConfigs)
	o, _ := simOptions(t, p)
	o.Shard = &schema.Part{Index: 1, Count: 2}
	runSweep(t, o)
	merged := filepath.Join(t.TempDir(), "merged")
	_, err := merge.Dirs(merged, []string{o.Out}, merge.Options{})
	if !errors.Is(err, merge.ErrMismatch) || !strings.Contains(err.Error(), "shard(s) 0/2 of the sweep are missing") {
		t.Fatalf("merging one shard of two: %v, want a missing shard refused", err)
	}
	res, err := merge.Dirs(merged, []string{o.Out, filepath.Join(t.TempDir(), "never-ran")}, merge.Options{AllowMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Pending, []string{"c", "a"}) || res.LeftOut != 1 {
		t.Errorf("pending %v, left out %d; want [c a] and 1", res.Pending, res.LeftOut)
	}
	if m := readManifest(t, merged); !slices.Equal(configNames(m), []string{"c:pending", "a:pending", "b:ok"}) || m.Status != schema.SweepInterrupted {
		t.Errorf("merged manifest %v %s, want c and a pending (in the sweep's order), b ok, interrupted", configNames(m), m.Status)
	}
	r, progress := simOptions(t, p)
	r.Out, r.Resume = merged, true
	out := runSweep(t, r)
	if out.Passed != 3 || !strings.Contains(progress.String(), "b: already done") {
		t.Errorf("resume after the merge: %+v\n%s", *out, progress)
	}
	if m := readManifest(t, merged); m.Status != schema.SweepCompleted {
		t.Errorf("after the resume the merged sweep is %s", m.Status)
	}
}

// TestMergeRefusals: inputs that cannot be merged are refused before
// anything is written.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "refusals", threeConfigs)
	other := writeProfile(t, "other", strings.Replace(threeConfigs, "rate: 20", "rate: 10", 1))
	run := func(p *profiles.Profile, shard *schema.Part) string {
		o, _ := simOptions(t, p)
		o.Shard = shard
		runSweep(t, o)
		return o.Out
	}
	s0 := run(p, &schema.Part{Index: 0, Count: 2})
	s1 := run(p, &schema.Part{Index: 1, Count: 2})
	whole := run(p, nil)
	otherS1 := run(other, &schema.Part{Index: 1, Count: 2})
	tests := []struct {
		name string
		dirs []string
		want string
	}{
		{"different profiles", []string{s0, otherS1}, "ran different profiles"},
		{"overlap", []string{s0, s1, whole}, "the directories overlap"},
		{"a shard twice", []string{s0, s0}, "the same directory"},
	}
	// A shard still being written (its lock held) is not read.
	lock, err := schema.LockDir(s1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = merge.Dirs(filepath.Join(t.TempDir(), "m"), []string{s0, s1}, merge.Options{})
	lock.Unlock()
	if !errors.Is(err, merge.ErrMismatch) || !strings.Contains(err.Error(), "is that shard still running?") {
		t.Errorf("merging a locked shard: %v", err)
	}
	// A shard measured on other data (the dataset changed under the same
	// profile between the shards).
	f, err := os.OpenFile(p.Workload.Dataset, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("What is a rider?,An add-on to a policy.,Riders cost extra.,Not every policy has riders.,Riders change coverage.\n")
	if cerr := f.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	s1data := run(p, &schema.Part{Index: 1, Count: 2})
	tests = append(tests, struct {
		name string
		dirs []string
		want string
	}{"another dataset", []string{s0, s1data}, "read different dataset files"})
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), "m")
		_, err := merge.Dirs(out, tt.dirs, merge.Options{})
		if !errors.Is(err, merge.ErrMismatch) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrMismatch containing %q", tt.name, err, tt.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: the refused merge wrote %s", tt.name, out)
		}
	}
}

// TestContinue: --continue starts a sweep in an empty directory and
// resumes it when it holds one.
func TestContinue(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "continue", twoConfigs)
	dir := filepath.Join(t.TempDir(), "out")
	for i, want := range []string{"starting", "already done (resume)"} {
		o, progress := simOptions(t, p)
		o.Out, o.Continue = dir, true
		if out := runSweep(t, o); out.Passed != 2 || !strings.Contains(progress.String(), want) {
			t.Errorf("run %d: %+v, progress lacks %q:\n%s", i, *out, want, progress)
		}
	}
}
