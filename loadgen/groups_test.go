package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
	"loadgen/server/servertest"
)

// fourSmall are four small configurations and two phases.
const fourSmall = `configs:
  - name: a
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: b
    enable_prefix_caching: true
    pa_num_blocks: 64
  - name: c
    enable_prefix_caching: false
    pa_num_blocks: 2
    max_num_seqs: 1
  - name: d
    enable_prefix_caching: true
    pa_num_blocks: 64
    max_num_seqs: 1
load:
  - arrival: sync
  - arrival: poisson
    rate: 20
    queries: 4
    seed: 1
`

// groupsProfile is fourSmall on the given core groups (cores no other
// test of the package pins), with server settings added.
func groupsProfile(t *testing.T, name, cores, server string) *profiles.Profile {
	t.Helper()
	path := servertest.WriteProfile(t, name, fourSmall)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "server:\n", "server:\n  neuron_cores: "+cores+"\n"+server, 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// window is when a configuration was measured: its first phase's start to
// its last phase's end.
type window struct{ from, to time.Time }

// results reads every phase result of a sweep, by config.
func results(t *testing.T, dir string) (map[string][]schema.PhaseResult, map[string]window) {
	t.Helper()
	m := readManifest(t, dir)
	out, wins := map[string][]schema.PhaseResult{}, map[string]window{}
	for _, c := range m.Configs {
		for _, ph := range c.Phases {
			var r schema.PhaseResult
			testkit.ReadJSON(t, filepath.Join(dir, schema.PhaseFile(c.Name, ph.Name)), &r)
			out[c.Name] = append(out[c.Name], r)
			w, ok := wins[c.Name]
			if !ok || r.StartedAt.Before(w.from) {
				w.from = r.StartedAt
			}
			if r.EndedAt.After(w.to) {
				w.to = r.EndedAt
			}
			wins[c.Name] = w
		}
	}
	return out, wins
}

// TestCoreGroups runs four configurations on two core groups (the
// simulator refuses cores another simulator holds) and one after another
// on one group: the same configurations, statuses and files; on two groups
// each result records its group, both groups ran, results measured beside
// another configuration say so, and the report warns that they may
// interfere.
func TestCoreGroups(t *testing.T) {
	t.Parallel()
	serialP := groupsProfile(t, "onegroup", `"20"`, "")
	serial, _ := simOptions(t, serialP)
	if out := runSweep(t, serial); out.Passed != 4 {
		t.Fatalf("one group: %+v", *out)
	}
	groupsP := groupsProfile(t, "twogroups", `["20", "21"]`, "")
	o, progress := simOptions(t, groupsP)
	if out := runSweep(t, o); out.Passed != 4 {
		t.Fatalf("two groups: %+v", *out)
	}
	want, got := readManifest(t, serial.Out), readManifest(t, o.Out)
	if !slices.Equal(configNames(got), configNames(want)) {
		t.Errorf("two groups ran %v, one group %v", configNames(got), configNames(want))
	}
	if g, w := configFiles(t, o.Out, got), configFiles(t, serial.Out, want); !slices.Equal(g, w) {
		t.Errorf("files on two groups\n%v\non one\n%v", g, w)
	}
	res, _ := results(t, o.Out)
	used, beside := map[string]bool{}, 0
	for c, rs := range res {
		for _, r := range rs {
			used[r.NeuronCores] = true
			if len(r.ConcurrentWith) > 0 {
				beside++
				if slices.Contains(r.ConcurrentWith, c) {
					t.Errorf("%s/%s ran beside itself: %v", c, r.Phase, r.ConcurrentWith)
				}
			}
		}
	}
	if !used["20"] || !used["21"] || len(used) != 2 || beside == 0 {
		t.Errorf("groups used %v, %d results measured beside another configuration; want both groups and some\n%s", used, beside, progress)
	}
	serialRes, _ := results(t, serial.Out)
	for _, rs := range serialRes {
		for _, r := range rs {
			if r.NeuronCores != "20" || len(r.ConcurrentWith) > 0 {
				t.Errorf("one group: %s ran on %q beside %v", r.Phase, r.NeuronCores, r.ConcurrentWith)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(o.Out, report.SummaryMarkdownFile))
	if err != nil || !strings.Contains(string(md), "were measured while other configurations ran on other core groups") {
		t.Errorf("the report does not warn about concurrent results (%v)", err)
	}
}

// TestCoreGroupsMeasureSerial: with server.measure: serial the servers
// start on both groups at once, but no two configurations are measured at
// the same time. The first two start together, so the one measured first
// is measured while the other's server is up, and says so.
func TestCoreGroupsMeasureSerial(t *testing.T) {
	t.Parallel()
	p := groupsProfile(t, "measureserial", `["22", "23"]`, "  measure: serial\n")
	o, progress := simOptions(t, p)
	if out := runSweep(t, o); out.Passed != 4 {
		t.Fatalf("%+v", *out)
	}
	res, wins := results(t, o.Out)
	names := slices.Sorted(func(yield func(string) bool) {
		for c := range wins {
			if !yield(c) {
				return
			}
		}
	})
	for i, a := range names {
		for _, b := range names[i+1:] {
			if wa, wb := wins[a], wins[b]; wa.from.Before(wb.to) && wb.from.Before(wa.to) {
				t.Errorf("%s (%v–%v) and %s (%v–%v) were measured at the same time", a, wa.from, wa.to, b, wb.from, wb.to)
			}
		}
	}
	first := names[0]
	for _, c := range names {
		if wins[c].from.Before(wins[first].from) {
			first = c
		}
	}
	if rs := res[first]; len(rs) == 0 || len(rs[0].ConcurrentWith) == 0 {
		t.Errorf("%s, measured first, records no server beside it\n%s", first, progress)
	}
}

// TestInterruptCoreGroups cancels a sweep while two configurations are
// measured at once on two groups: both stop with partial results, the one
// not started yet is interrupted too, and no server is left.
func TestInterruptCoreGroups(t *testing.T) {
	t.Parallel()
	path := servertest.WriteProfile(t, "groupsint", `configs:
  - name: a
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: b
    enable_prefix_caching: false
    pa_num_blocks: 2
    max_num_seqs: 1
  - name: c
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - arrival: poisson
    rate: 100
    queries: 600
    seed: 1
`)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "server:\n", "server:\n  neuron_cores: [\"26\", \"27\"]\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	o, progress := simOptions(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *Outcome, 1)
	go func() {
		out, err := preflightRun(ctx, o)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	testkit.WaitFor(t, time.Minute, "both groups to measure", func() bool {
		m, err := schema.ReadManifest(o.Out)
		return err == nil && m.Config("a").Phase("poisson-100").Status == schema.StatusRunning &&
			m.Config("b").Phase("poisson-100").Status == schema.StatusRunning
	})
	cancel()
	var out *Outcome
	select {
	case out = <-done:
	case <-time.After(time.Minute):
		t.Fatalf("the sweep did not return within a minute of the interrupt\n%s", progress)
	}
	if out == nil || !out.Interrupted || out.Passed != 0 {
		t.Fatalf("outcome %+v, want interrupted", out)
	}
	m := readManifest(t, o.Out)
	for _, c := range []string{"a", "b", "c"} {
		if st := m.Config(c).Status; st != schema.StatusInterrupted {
			t.Errorf("config %s: %s, want interrupted", c, st)
		}
	}
	servertest.AssertServerGone(t, o.Out, "a")
	servertest.AssertServerGone(t, o.Out, "b")
}
