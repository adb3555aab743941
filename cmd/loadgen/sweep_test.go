package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"loadgen/loadgen"
	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
	"loadgen/server/servertest"
)

// fourConfigs are the offline benchmark's configurations (prefix caching ×
// bucketing) at the tiny test sizes, so the results join the shipped
// offline files.
const fourConfigs = `configs:
  - name: cache_on-bucketing_on
    enable_prefix_caching: true
    enable_bucketing: true
    pa_num_blocks: 64
  - name: cache_on-bucketing_off
    enable_prefix_caching: true
    enable_bucketing: false
    pa_num_blocks: 64
  - name: cache_off-bucketing_on
    enable_prefix_caching: false
    enable_bucketing: true
    pa_num_blocks: 2
  - name: cache_off-bucketing_off
    enable_prefix_caching: false
    enable_bucketing: false
    pa_num_blocks: 2
load:
  - arrival: sync
  - arrival: poisson
    rate: 20
    queries: 4
    seed: 1
`

// TestSweepCommand runs `loadgen sweep --simulate` as a child process on a
// four-config profile, then `report` and `compare` on its results.
func TestSweepCommand(t *testing.T) {
	t.Parallel()
	profile := servertest.WriteProfile(t, "four", fourConfigs)
	out := filepath.Join(t.TempDir(), "out")
	// Flags after the profile, as people type them.
	r := runChild(t, append([]string{"sweep", profile, "--out", out, "--port", strconv.Itoa(ports.Free(t))}, simArgs...)...)
	if r.code != exitOK {
		t.Fatalf("sweep: exit %d\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"SIMULATED", "| 1 | ", "Recommended:", "sweep done: 4 passed, 0 failed, 0 not run — report: " + out + "/summary.md"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("sweep output lacks %q:\n%s", s, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "(SIMULATED)") || !strings.Contains(r.stderr, "[4/4] cache_off-bucketing_off: ready in") {
		t.Errorf("progress on stderr lacks the SIMULATED header or the last config:\n%s", r.stderr)
	}
	m, err := schema.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != schema.SweepCompleted || !m.Simulated || len(m.Configs) != 4 || m.LoadgenVersion != version {
		t.Errorf("manifest: status %q simulated %v, %d configs, version %q", m.Status, m.Simulated, len(m.Configs), m.LoadgenVersion)
	}
	for _, c := range m.Configs {
		if c.Status != schema.StatusOK {
			t.Errorf("config %s: %s %s", c.Name, c.Status, c.Reason)
		}
		servertest.AssertServerGone(t, out, c.Name)
	}

	t.Run("report --check", func(t *testing.T) {
		dir := testkit.CopyDir(t, out)
		if err := os.Remove(filepath.Join(dir, report.SummaryMarkdownFile)); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, "report", dir, "--check")
		if r.code != exitOK || r.stderr != "" || !strings.Contains(r.stdout, "wrote "+dir+"/summary.md") {
			t.Errorf("report --check on good results: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		md, err := os.ReadFile(filepath.Join(dir, report.SummaryMarkdownFile))
		if err != nil || !strings.Contains(string(md), "SIMULATED") {
			t.Errorf("report did not re-render summary.md: %v", err)
		}
	})

	// report --check holds every stored file to what the records claim:
	// each damage exits 1 and names the file; without --check the report
	// is still rendered from the rest (a corrupt manifest aside: nothing
	// can be rendered without it).
	const cfg = "cache_off-bucketing_on"
	for _, tc := range []struct {
		name   string
		file   string // relative to the config's directory; "" the results directory's manifest
		damage string // the new content; "" removes the file
		want   string
	}{
		{"truncated phase result", "sync.json", "{\"schema_version\": 1, \"phase\":", "config " + cfg + " phase sync: "},
		{"missing hlog", "sync.hlog", "", "config " + cfg + " phase sync: sync.hlog is missing"},
		{"garbage hlog", "sync.hlog", "garbage\n", "config " + cfg + " phase sync: sync.hlog holds 0 ttft values, the phase result "},
		{"missing scores", "sync.scores.jsonl", "", "config " + cfg + " phase sync: sync.scores.jsonl is missing"},
		{"garbage scores", "sync.scores.jsonl", "garbage\n", "sync.scores.jsonl:1: not a score record"},
		{"missing startup", "startup.json", "", "config " + cfg + ": " + cfg + "/startup.json is missing"},
		{"corrupt manifest", "", "{", "results cannot be read: read manifest"},
	} {
		t.Run("report --check "+tc.name, func(t *testing.T) {
			dir := testkit.CopyDir(t, out)
			path := filepath.Join(dir, cfg, tc.file)
			if tc.file == "" {
				path = filepath.Join(dir, schema.ManifestFile)
			}
			var err error
			if tc.damage == "" {
				err = os.Remove(path)
			} else {
				err = os.WriteFile(path, []byte(tc.damage), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, "report", "--check", dir)
			if r.code != exitFailed || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want 1 naming %q:\n%s", r.code, tc.want, r.stderr)
			}
			if tc.file == "" {
				return
			}
			if !strings.Contains(r.stderr, "report --check: 1 problem(s)") {
				t.Errorf("want exactly one problem:\n%s", r.stderr)
			}
			if r := runCLI(t, "report", dir); r.code != exitOK {
				t.Errorf("report without --check: exit %d\n%s", r.code, r.stderr)
			}
		})
	}

	t.Run("compare --offline", func(t *testing.T) {
		r := runCLI(t, "compare", "--offline", "../../testdata/offline-inf2-xlarge", out)
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, s := range []string{"SIMULATED", "## Ranking agreement", "Kendall's τ_b = ", "over 4 configs",
			"| cache_ON_bucketing_ON | cache_on-bucketing_on |", "| cache_OFF_bucketing_OFF | cache_off-bucketing_off |"} {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("compare --offline output lacks %q:\n%s", s, r.stdout)
			}
		}
		js := runCLI(t, "compare", out, "--offline", "../../testdata/offline-inf2-xlarge", "--json")
		var v map[string]any
		if js.code != exitOK || json.Unmarshal([]byte(js.stdout), &v) != nil {
			t.Errorf("compare --offline --json: exit %d, output does not parse:\n%.500s", js.code, js.stdout)
		}
	})

	t.Run("compare A B", func(t *testing.T) {
		r := runCLI(t, "compare", out, testkit.CopyDir(t, out))
		if r.code != exitOK || r.stdout == "" {
			t.Errorf("compare of a sweep with its copy: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestSweepCommandConfigFails makes the first config fail to start (stale
// compiled artifacts that make the simulated NxDI raise the k_shape
// AttributeError; the profile check refuses to write that layout itself)
// and checks exit status 1, the recorded failure and that the second
// config ran.
func TestSweepCommandConfigFails(t *testing.T) {
	t.Parallel()
	path := servertest.WriteProfile(t, "cli-kshape", `configs:
  - name: cli-stale
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: cli-fresh
    enable_prefix_caching: true
    pa_num_blocks: 64
load:
  - arrival: sync
`)
	// The artifacts directory the child will use: the same plan, the same
	// user cache directory (XDG_CACHE_HOME, set for the test process).
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := loadgen.Plan(loadgen.Options{Profile: p, Simulate: true})
	if err != nil {
		t.Fatal(err)
	}
	stale := plan.Configs[0].ArtifactsDir
	servertest.WriteStaleArtifacts(t, stale, true)
	out := filepath.Join(t.TempDir(), "out")
	r := runChild(t, append([]string{"sweep", "--out", out, "--port", strconv.Itoa(ports.Free(t)), path}, simArgs...)...)
	if r.code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "sweep done: 1 passed, 1 failed, 0 not run") {
		t.Errorf("stdout lacks the outcome:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "[1/2] cli-stale: FAILED: k_shape: ") {
		t.Errorf("progress does not report the failure class:\n%s", r.stderr)
	}
	m, err := schema.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config("cli-stale"); c == nil || c.Status != schema.StatusFailed || c.FailureClass != string(schema.FailureKShape) || c.Phase("sync").Status != schema.StatusSkipped {
		t.Errorf("manifest record of cli-stale: %+v", c)
	}
	if c := m.Config("cli-fresh"); c == nil || c.Status != schema.StatusOK {
		t.Errorf("manifest record of cli-fresh: %+v", c)
	}
	if m.Status != schema.SweepFailed {
		t.Errorf("manifest status %q, want failed", m.Status)
	}
	servertest.AssertServerGone(t, out, "cli-stale")
	servertest.AssertServerGone(t, out, "cli-fresh")

	// Resuming a simulated sweep for real is refused before anything starts.
	if r := runCLI(t, "sweep", "--resume", out); r.code != exitUsage || !strings.Contains(r.stderr, "that sweep ran with --simulate") {
		t.Errorf("--resume without --simulate: exit %d\n%s", r.code, r.stderr)
	}
	// The user deletes the stale artifacts and resumes, without naming the
	// profile again: only cli-stale runs.
	if err := os.RemoveAll(stale); err != nil {
		t.Fatal(err)
	}
	freshSync, err := os.ReadFile(filepath.Join(out, schema.PhaseFile("cli-fresh", "sync")))
	if err != nil {
		t.Fatal(err)
	}
	r = runChild(t, append([]string{"sweep", "--resume", out, "--port", strconv.Itoa(ports.Free(t))}, simArgs...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "sweep done: 2 passed, 0 failed, 0 not run") {
		t.Errorf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "[2/2] cli-fresh: already done (resume)") || strings.Contains(r.stderr, "cli-fresh: starting") {
		t.Errorf("the resume ran cli-fresh again:\n%s", r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, schema.PhaseFile("cli-fresh", "sync"))); err != nil || string(b) != string(freshSync) {
		t.Errorf("the resume rewrote cli-fresh/sync.json (%v)", err)
	}
	servertest.AssertServerGone(t, out, "cli-stale")

	// A failure after the measurements (here: the report cannot be
	// written) is a runtime error, exit 1, not bad input.
	plots := filepath.Join(out, report.PlotsDir)
	if err := os.RemoveAll(plots); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plots, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runChild(t, append([]string{"sweep", "--resume", out}, simArgs...)...)
	if r.code != exitFailed || !strings.Contains(r.stderr, "loadgen: writing the report: ") {
		t.Errorf("unwritable report: exit %d, want 1\n%s", r.code, r.stderr)
	}
}

// TestPrintOutcome: the last line claims only what exists — the report
// when it was written, else where the results are and how to render them
// — and every failed write is listed.
func TestPrintOutcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  loadgen.Outcome
		want []string // in stdout, then "!" + what must not be there
		errs []string // in stderr
	}{
		// A sweep whose report was written names it.
		{"report", loadgen.Outcome{Dir: "res", Passed: 2, Report: "res/summary.md"},
			[]string{"sweep done: 2 passed, 0 failed, 0 not run — report: res/summary.md (and report.html)"}, nil},
		// A full disk: no report, the failed writes listed.
		{"no report", loadgen.Outcome{Dir: "res", Failed: 1, WriteErrors: []string{"manifest.json: 3 write(s) failed (no space left on device)"}},
			[]string{"sweep done: 0 passed, 1 failed, 0 not run — no report was written (results in res; render it with: loadgen report res); 1 file(s) could not be written, see above", "!summary.md"},
			[]string{"loadgen: WRITE FAILED: manifest.json: 3 write(s) failed (no space left on device)"}},
	} {
		var stdout, stderr strings.Builder
		printOutcome(&stdout, &stderr, &tc.out)
		for _, w := range tc.want {
			if no, ok := strings.CutPrefix(w, "!"); ok {
				if strings.Contains(stdout.String(), no) {
					t.Errorf("%s: stdout claims %q:\n%s", tc.name, no, stdout.String())
				}
			} else if !strings.Contains(stdout.String(), w) {
				t.Errorf("%s: stdout lacks %q:\n%s", tc.name, w, stdout.String())
			}
		}
		for _, e := range tc.errs {
			if !strings.Contains(stderr.String(), e) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, e, stderr.String())
			}
		}
	}
}
