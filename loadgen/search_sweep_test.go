package loadgen

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

// onlineProfile is one config with the online-capacity phases: capacity
// at rate inf, a search for the capacity at an SLO (the simulator at speed
// 100 serves the tiny dataset's queries in a few ms), and half of the
// capacity.
const onlineProfile = `configs:
  - name: a
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - arrival: sync
  - {arrival: inf, max_concurrency: 2, queries: 6}
  - arrival: poisson
    duration: 1s
    seed: 1
    search: {max: 40ms, max_trials: 4, max_time: 1m}
  - {arrival: poisson, rate: 50%, duration: 1s, seed: 1}
slo:
  query_latency: 40ms
`

// TestSimulatedSearch runs a search and a relative rate against the
// simulator and checks what they leave: every trial a phase of its own in
// the manifest with its files, the search's record and answer, the share
// and its basis, and the report's capacity at the SLO. What the answer is
// depends on the machine's speed; that it is what the trials say does not.
func TestSimulatedSearch(t *testing.T) {
	t.Parallel()
	o, _ := simOptions(t, writeProfile(t, "online", onlineProfile))
	out := runSweep(t, o)
	if out.Passed != 1 || len(out.Problems) > 0 {
		t.Fatalf("outcome %+v, problems %q", *out, out.Problems)
	}
	m := readManifest(t, o.Out)
	cs := wantStatuses(t, m, "a", schema.StatusOK, map[string]string{
		"sync": schema.StatusOK, "inf-c2": schema.StatusOK, "poisson-search": schema.StatusOK, "poisson-50pct": schema.StatusOK})
	rec := checkSearch(t, o.Out, cs)

	var half schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("a", "poisson-50pct")), &half)
	var inf schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("a", "inf-c2")), &inf)
	if b := half.RateBasis; half.RateShare != 0.5 || b == nil || b.Phase != "inf-c2" || b.Capacity != inf.QueryThroughput ||
		math.Abs(float64(half.RequestRate)-0.5*inf.QueryThroughput) > 1e-9 {
		t.Errorf("poisson-50pct: share %g of %+v at %v q/s; want 50%% of inf-c2's %g", half.RateShare, half.RateBasis, half.RequestRate, inf.QueryThroughput)
	}
	if rec.Upper != inf.QueryThroughput || rec.UpperPhase != "inf-c2" || rec.UnloadedPhase != "sync" {
		t.Errorf("bounds: upper %g from %q, unloaded from %q; want inf-c2's %g and sync", rec.Upper, rec.UpperPhase, rec.UnloadedPhase, inf.QueryThroughput)
	}

	sw, err := report.Load(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sw.Summary()
	if len(sum.Searches) != 1 || sum.Searches[0].CapacityAtSLO == nil || math.Abs(*sum.Searches[0].CapacityAtSLO-rec.CapacityAtSLO) > 1e-6 ||
		sum.Ranking[0].CapacityAtSLO == nil {
		t.Errorf("summary: searches %+v, ranking %+v", sum.Searches, sum.Ranking)
	}
	md, err := os.ReadFile(filepath.Join(o.Out, report.SummaryMarkdownFile))
	if err != nil || !strings.Contains(string(md), "## 2. Capacity at the SLO") {
		t.Errorf("summary.md lacks the capacity at the SLO (%v)", err)
	}
}

// checkSearch checks a finished search phase of config a: its record,
// every trial's files and manifest entry, and that the answer is the
// highest passing trial below every failing one.
func checkSearch(t *testing.T, dir string, cs *schema.ConfigStatus) *schema.SearchResult {
	t.Helper()
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(dir, schema.PhaseFile("a", "poisson-search")), &res)
	rec := res.Search
	if rec == nil || res.CapacityAtSLO == nil || *res.CapacityAtSLO != rec.CapacityAtSLO || len(rec.Trials) == 0 {
		t.Fatalf("poisson-search.json: capacity %v, search %+v", res.CapacityAtSLO, rec)
	}
	used := 0 // max_trials bounds the trials used; one set aside runs again
	for _, tr := range rec.Trials {
		if !tr.Discarded {
			used++
		}
	}
	if used > 4 || len(rec.Trials) > 2*used {
		t.Errorf("%d trials, %d used; max_trials is 4", len(rec.Trials), used)
	}
	if ps := cs.Phase("poisson-search"); ps.CapacityAtSLO == nil || *ps.CapacityAtSLO != rec.CapacityAtSLO {
		t.Errorf("manifest: capacity_at_slo %v, want %g", ps.CapacityAtSLO, rec.CapacityAtSLO)
	}
	if rec.SLO.String() != "p99 query_latency ≤ 40ms, failed ≤ 1%" || rec.Tolerance != 0.05 {
		t.Errorf("SLO %s, tolerance %g", rec.SLO, rec.Tolerance)
	}
	var trials []string
	for _, p := range cs.Phases {
		if p.Search == "poisson-search" {
			trials = append(trials, p.Name)
			if p.Status != schema.StatusOK || !strings.HasPrefix(p.Reason, "SLO ") && !strings.HasPrefix(p.Reason, "set aside") {
				t.Errorf("manifest: trial %s is %s (%s)", p.Name, p.Status, p.Reason)
			}
		}
	}
	best, lowestFail := 0.0, math.Inf(1)
	for i, tr := range rec.Trials {
		if tr.Discarded && !strings.Contains(tr.Why, "fell behind") {
			t.Errorf("trial %d set aside: %s", tr.N, tr.Why)
		}
		if tr.N != i+1 || tr.Phase != schema.TrialName("poisson-search", i+1) || i >= len(trials) || trials[i] != tr.Phase {
			t.Errorf("trial %d: %+v; manifest lists %v", i+1, tr, trials)
			continue
		}
		for _, f := range []string{tr.File, strings.TrimSuffix(tr.File, ".json") + ".hlog"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("trial %d: %v", tr.N, err)
			}
		}
		if !tr.Pass && tr.Why == "" {
			t.Errorf("trial %d failed without saying why", tr.N)
		}
		if !tr.Pass && !tr.Discarded {
			lowestFail = math.Min(lowestFail, tr.Rate)
		}
	}
	for _, tr := range rec.Trials {
		if tr.Pass && !tr.Discarded && tr.Rate < lowestFail {
			best = math.Max(best, tr.Rate)
		}
	}
	if rec.CapacityAtSLO != best {
		t.Errorf("capacity at SLO %g, but the trials say %g", rec.CapacityAtSLO, best)
	}
	if rec.Pass > 0 && rec.Trials[rec.Pass-1].Rate != best {
		t.Errorf("pass trial %d is not the answer", rec.Pass)
	}
	return rec
}

// TestSearchResumeRestarts: a resumed search starts again from its first
// trial; the earlier attempt's trials are gone from the manifest and the
// directory.
func TestSearchResumeRestarts(t *testing.T) {
	t.Parallel()
	o, _ := simOptions(t, writeProfile(t, "online", onlineProfile))
	runSweep(t, o)
	// The search was interrupted after a trial 9 that never was.
	stale := filepath.Join(o.Out, "a", schema.TrialName("poisson-search", 9)+".json")
	if err := os.WriteFile(stale, []byte(`{"phase":"poisson-search.trial-09","end_reason":"interrupted"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, o.Out)
	cs := m.Config("a")
	cs.Status = schema.StatusInterrupted
	cs.Phase("poisson-search").Status = schema.StatusInterrupted
	cs.Phase("poisson-50pct").Status = schema.StatusPending
	cs.Phases = append(cs.Phases, schema.PhaseStatus{Name: schema.TrialName("poisson-search", 9), Status: schema.StatusInterrupted, Search: "poisson-search"})
	if err := schema.WriteJSONAtomic(filepath.Join(o.Out, schema.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	o.Resume = true
	out := runSweep(t, o)
	if out.Passed != 1 || len(out.Problems) > 0 {
		t.Fatalf("resumed: outcome %+v, problems %q", *out, out.Problems)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the earlier attempt's trial 9 is still there (%v)", err)
	}
	m = readManifest(t, o.Out)
	cs = wantStatuses(t, m, "a", schema.StatusOK, map[string]string{"poisson-search": schema.StatusOK, "poisson-50pct": schema.StatusOK})
	if cs.Phase(schema.TrialName("poisson-search", 9)) != nil {
		t.Error("the manifest still lists trial 9")
	}
	checkSearch(t, o.Out, cs)
}

// TestSearchCheck: with CheckSearches, a search is followed by its
// brute-force check on the same server, recorded beside it and left out
// of the report.
func TestSearchCheck(t *testing.T) {
	t.Parallel()
	profile := strings.Replace(onlineProfile, "    duration: 1s\n    seed: 1\n    search:", "    duration: 300ms\n    seed: 1\n    search:", 1)
	o, _ := simOptions(t, writeProfile(t, "online", profile))
	o.CheckSearches = true
	out := runSweep(t, o)
	if out.Passed != 1 || len(out.Problems) > 0 {
		t.Fatalf("outcome %+v, problems %q", *out, out.Problems)
	}
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("a", "poisson-search")), &res)
	var chk schema.SearchCheck
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.ScanFile("a", "poisson-search")), &chk)
	used := 0 // trials set aside (the client fell behind) ran again
	for _, tr := range chk.Trials {
		if !tr.Discarded {
			used++
		}
	}
	if chk.SearchPhase != "poisson-search" || chk.Search != res.Search.CapacityAtSLO || chk.SearchTrials != len(res.Search.Trials) ||
		chk.Upper != res.Search.Upper || used < scanSteps || used > scanSteps+4 {
		t.Fatalf("check %+v against search %+v", chk, res.Search)
	}
	for i, tr := range chk.Trials {
		if tr.Phase != schema.ScanName("poisson-search", i+1) {
			t.Errorf("check trial %d is %s", i+1, tr.Phase)
		}
		if _, err := os.Stat(filepath.Join(o.Out, tr.File)); err != nil {
			t.Errorf("check trial %d: %v", i+1, err)
		}
	}
	if p, f := scanBracket(chk.Trials); chk.Truth != p || chk.TruthFail != f {
		t.Errorf("truth %g–%g, the trials say %g–%g", chk.Truth, chk.TruthFail, p, f)
	}
	if chk.Truth > 0 && chk.Within != (math.Abs(chk.Search-chk.Truth)/chk.Truth <= chk.Tolerance+1e-9) {
		t.Errorf("within %v for %g against %g", chk.Within, chk.Search, chk.Truth)
	}
	sw, err := report.Load(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sw.Config("a").Phases {
		if strings.Contains(p.Name, schema.ScanInfix) || strings.HasSuffix(p.Name, ".scan") {
			t.Errorf("the report loaded the check's %s", p.Name)
		}
	}
}
