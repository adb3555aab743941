package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

func TestSummaryGolden(t *testing.T) {
	for _, tc := range []struct {
		name, dir string
	}{
		// Four simulated configs, every phase done, some with .hlog.
		{"sim", simDir},
		// An interrupted real sweep: passed, voided, failed at startup,
		// interrupted and pending configs.
		{"partial", partialDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := loadFixture(t, tc.dir).Summary()
			var md, js, cs, rk bytes.Buffer
			if err := sum.WriteRanking(&rk); err != nil {
				t.Fatal(err)
			}
			if err := sum.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := sum.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if err := sum.WriteCSV(&cs); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join(goldenDir, tc.name, "summary.md"), md.Bytes())
			testkit.Golden(t, filepath.Join(goldenDir, tc.name, "summary.json"), js.Bytes())
			testkit.Golden(t, filepath.Join(goldenDir, tc.name, "summary.csv"), cs.Bytes())
			testkit.Golden(t, filepath.Join(goldenDir, tc.name, "ranking.txt"), rk.Bytes())
		})
	}
}

func TestSummaryOrderAndBanner(t *testing.T) {
	sum := loadFixture(t, simDir).Summary()
	var md bytes.Buffer
	sum.WriteMarkdown(&md)
	text := md.String()
	// The sections come in their fixed order (the offline ranking first),
	// with the banner at the top and at the end.
	marks := []string{"# SIMULATED", "> **SIMULATED", "## 1. Ranking", "## 2. Capacity at the SLO", "## 3. Online phases", "## 4. Startup",
		"## 5. Server-side metrics", "## 6. Recommendation", "## 7. SIMULATED"}
	last := -1
	for _, m := range marks {
		i := strings.Index(text, m)
		if i <= last {
			t.Fatalf("%q at %d, want after %d", m, i, last)
		}
		last = i
	}
	// As in the offline table: bucketing ON ahead of OFF, prefix caching
	// OFF ahead of ON.
	var order []string
	for _, r := range sum.Ranking {
		order = append(order, r.Config)
	}
	want := []string{"prefix-off_bucketing-on", "prefix-on_bucketing-on", "prefix-on_bucketing-off", "prefix-off_bucketing-off"}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("ranking %v, want %v", order, want)
	}
	if got := sum.Recommendation.Config; got != want[0] {
		t.Errorf("recommended %q, want %q", got, want[0])
	}
	// The recommended config's dataset wrapped with prefix caching off:
	// a note, not one of the recommendation's warnings.
	if len(sum.Recommendation.Warnings) != 0 || !slices.Contains(sum.Notes, "config prefix-off_bucketing-on: phase stress: dataset wrapped 3 times: prompts repeated") {
		t.Errorf("recommendation warnings %q, notes %q", sum.Recommendation.Warnings, sum.Notes)
	}
	if *sum.Ranking[0].SharePct != 100 || *sum.Ranking[3].SharePct >= 30 {
		t.Errorf("shares %v %v", *sum.Ranking[0].SharePct, *sum.Ranking[3].SharePct)
	}
}

func TestSummaryNotSimulated(t *testing.T) {
	sum := loadFixture(t, partialDir).Summary()
	var md, js, cs bytes.Buffer
	sum.WriteMarkdown(&md)
	sum.WriteJSON(&js)
	sum.WriteCSV(&cs)
	for what, out := range map[string]string{"md": md.String(), "json": js.String(), "csv": cs.String()} {
		if strings.Contains(out, "SIMULATED") {
			t.Errorf("%s of a real run says SIMULATED", what)
		}
	}
}

func TestSummaryPartial(t *testing.T) {
	sum := loadFixture(t, partialDir).Summary()
	byConfig := map[string]RankRow{}
	for _, r := range sum.Ranking {
		byConfig[r.Config] = r
	}
	for _, tc := range []struct {
		config     string
		rank       int
		class      string
		reasonPart string
	}{
		// Passed: ranked, no failure.
		{"cache_OFF_bucketing_ON", 2, "", ""},
		// Voided by a finding: still ranked (its numbers exist), but failed.
		{"cache_ON_bucketing_ON", 1, "invalid_config", "override_neuron_config"},
		// Failed at startup: unranked with its class and reason.
		{"cache_ON_bucketing_OFF", 0, "k_shape", "k_shape"},
		// Interrupted after its sync phase: ranked.
		{"cache_OFF_bucketing_OFF", 3, "", "interrupted"},
		// Crashed in its sync phase: the fastest numbers, but partial, so
		// not ranked, and the reason says how far it got.
		{"cache_OFF_bucketing_ON_seqs2", 0, "crashed_mid_run",
			"the server exited during phase sync; phase sync not ranked (failed (server_exited): 3 of 10 queries completed)"},
		// Never started.
		{"cache_OFF_bucketing_ON_seqs8", 0, "", "pending"},
	} {
		r := byConfig[tc.config]
		if r.Rank != tc.rank || r.FailureClass != tc.class || !strings.Contains(r.Reason, tc.reasonPart) {
			t.Errorf("%s: rank %d class %q reason %q; want %d %q containing %q", tc.config, r.Rank, r.FailureClass, r.Reason,
				tc.rank, tc.class, tc.reasonPart)
		}
	}
	rec := sum.Recommendation
	if rec.Config != "cache_OFF_bucketing_ON" {
		t.Errorf("recommended %q, want the best config that passed", rec.Config)
	}
	mustContain(t, "reasons", strings.Join(rec.Reasons, "\n"), "Ranked higher but failed", "cache_ON_bucketing_ON")
	mustContain(t, "warnings", strings.Join(sum.Warnings, "\n"),
		"logprobs missing", "invalid-config finding", "refused to reset its prefix cache", "phase stress: ended early (interrupted)", "no results for phase stress (skipped)")
	if strings.Contains(strings.Join(sum.Warnings, "\n"), "arrivals were sent") {
		t.Error("late arrivals at rate inf are by design and must not be a warning")
	}
}

// TestCSVMatchesJSON parses summary.csv back and checks that it carries
// the numbers of summary.json.
func TestCSVMatchesJSON(t *testing.T) {
	for _, dir := range []string{simDir, partialDir} {
		sum := loadFixture(t, dir).Summary()
		var cs, js bytes.Buffer
		sum.WriteCSV(&cs)
		sum.WriteJSON(&js)
		recs, err := csv.NewReader(&cs).ReadAll()
		if err != nil {
			t.Fatalf("%s: summary.csv does not parse: %v", dir, err)
		}
		var back Summary
		if err := json.Unmarshal(js.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		if len(recs)-1 != len(back.Phases)+countNoPhase(back) {
			t.Errorf("%s: %d CSV rows for %d phases", dir, len(recs)-1, len(back.Phases))
		}
		phases := map[[2]string]PhaseRow{}
		for _, p := range back.Phases {
			phases[[2]string{p.Config, p.Phase}] = p
		}
		ranks := map[string]RankRow{}
		for _, r := range back.Ranking {
			ranks[r.Config] = r
		}
		for _, rec := range recs[1:] {
			p := phases[[2]string{rec[col["config"]], rec[col["phase"]]}]
			checkCell(t, rec[col["query_throughput"]], p.QueryThroughput)
			checkCell(t, rec[col["ttft_p99_ms"]], p.TTFTP99Ms)
			checkCell(t, rec[col["query_latency_p50_ms"]], p.QueryLatencyP50Ms)
			if r := ranks[rec[col["config"]]]; r.Phase == rec[col["phase"]] && r.Phase != "" {
				checkCell(t, rec[col["queries_per_sec"]], r.QueriesPerSec)
				checkCell(t, rec[col["p95_s"]], r.P95S)
				if rec[col["rank"]] != strconv.Itoa(r.Rank) {
					t.Errorf("rank %s, want %d", rec[col["rank"]], r.Rank)
				}
			}
			if rec[col["simulated"]] != simCell(back.Simulated) {
				t.Errorf("simulated cell %s", rec[col["simulated"]])
			}
		}
	}
}

func countNoPhase(s Summary) int {
	has := map[string]bool{}
	for _, p := range s.Phases {
		has[p.Config] = true
	}
	n := 0
	for _, r := range s.Startup {
		if !has[r.Config] {
			n++
		}
	}
	return n
}

func checkCell(t *testing.T, cell string, want *float64) {
	t.Helper()
	if want == nil {
		if cell != "" {
			t.Errorf("cell %q, want empty", cell)
		}
		return
	}
	got, err := strconv.ParseFloat(cell, 64)
	if err != nil || got != *want {
		t.Errorf("cell %q, want %v", cell, *want)
	}
}

func TestRecommendationNonePassed(t *testing.T) {
	s := loadFixture(t, partialDir)
	for i := range s.Configs {
		s.Configs[i].Status.Status = schema.StatusFailed
	}
	sum := s.Summary()
	if sum.Recommendation.Config != "" || !strings.Contains(sum.Recommendation.Reasons[0], "No config passed") {
		t.Errorf("%+v", sum.Recommendation)
	}
	var md bytes.Buffer
	if err := sum.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "summary.md", md.String(), "No config passed")
}

func TestSummaryWithoutSyncPhase(t *testing.T) {
	s := loadFixture(t, simDir)
	for i := range s.Configs {
		for _, p := range s.Configs[i].Phases {
			if p.Result != nil && p.Result.Arrival == "sync" {
				p.Result.Arrival = "constant"
			}
		}
	}
	sum := s.Summary()
	for _, r := range sum.Ranking {
		if r.Rank != 0 || r.Reason != "no sync phase" {
			t.Errorf("%s: rank %d reason %q", r.Config, r.Rank, r.Reason)
		}
	}
	if sum.Recommendation.Config != "" {
		t.Error("nothing to recommend without a sync phase")
	}
}
