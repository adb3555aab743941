package report

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
)

// TestRecommendOnline: with a capacity at the SLO the recommendation
// weighs it first and says plainly whether the online answer differs from
// the offline ranking.
func TestRecommendOnline(t *testing.T) {
	t.Parallel()
	const slo = "p99 query_latency ≤ 1s, failed ≤ 1%"
	sweep := &Sweep{Configs: []ConfigResult{
		{Name: "fast-alone", Status: schema.ConfigStatus{Name: "fast-alone", Status: schema.StatusOK}},
		{Name: "batches", Status: schema.ConfigStatus{Name: "batches", Status: schema.StatusOK}},
		{Name: "slow", Status: schema.ConfigStatus{Name: "slow", Status: schema.StatusOK}},
	}}
	row := func(rank int, name string, qps float64, atSLO *float64) RankRow {
		return RankRow{Rank: rank, Config: name, QueriesPerSec: f64(qps), CapacityAtSLO: atSLO, Status: schema.StatusOK}
	}
	cases := []struct {
		name    string
		ranking []RankRow
		want    string   // the recommended config
		reasons []string // substrings of the reasons, in order
	}{
		// The fastest one query at a time queues worst: the online answer
		// is another config, and the report says so.
		{"differs", []RankRow{row(1, "fast-alone", 3, f64(1.2)), row(2, "batches", 2.5, f64(2.4)), row(3, "slow", 0.8, f64(0))},
			"batches", []string{"Highest capacity at the SLO (" + slo + "): 2.400 queries/s, 2.00× the runner-up fast-alone",
				"The online answer differs from the offline ranking: one query at a time (the sync phase, the offline benchmark's measure) fast-alone is fastest (3.0000 queries/s against 2.5000), but at the SLO it serves 1.200 queries/s."}},
		// Both rankings put the same config first.
		{"agrees", []RankRow{row(1, "fast-alone", 3, f64(2.9)), row(2, "batches", 2.5, f64(2.4)), row(3, "slow", 0.8, f64(0))},
			"fast-alone", []string{"Highest capacity at the SLO", "The offline ranking agrees: fast-alone is also the fastest one query at a time"}},
		// Beyond the first place: slow serves more at the SLO than batches.
		{"differs lower down", []RankRow{row(1, "fast-alone", 3, f64(2.9)), row(2, "batches", 2.5, f64(0.1)), row(3, "slow", 0.8, f64(0.5))},
			"fast-alone", []string{"The offline ranking agrees", "The two rankings also order other configs differently: slow serves more at the SLO (0.500 vs 0.100 queries/s) though batches is faster"}},
		// No config meets the SLO: the offline ranking decides, and says why.
		{"none meets it", []RankRow{row(1, "fast-alone", 3, f64(0)), row(2, "batches", 2.5, f64(0)), row(3, "slow", 0.8, f64(0))},
			"fast-alone", []string{"Highest query throughput in the sync phase", "No config meets the SLO (" + slo + ") at any rate searched"}},
		// Without a search the recommendation is the offline ranking's.
		{"no search", []RankRow{row(1, "fast-alone", 3, nil), row(2, "batches", 2.5, nil), row(3, "slow", 0.8, nil)},
			"fast-alone", []string{"Highest query throughput in the sync phase"}},
	}
	for _, tc := range cases {
		sum := &Summary{Ranking: tc.ranking, Warnings: []string{}}
		for _, r := range tc.ranking {
			if r.CapacityAtSLO != nil {
				sum.Searches = append(sum.Searches, SearchRow{Config: r.Config, SLO: slo})
			}
		}
		rec := recommend(sweep, sum)
		if rec.Config != tc.want {
			t.Errorf("%s: recommended %s, want %s (%q)", tc.name, rec.Config, tc.want, rec.Reasons)
			continue
		}
		all := strings.Join(rec.Reasons, "\n")
		at := 0
		for _, want := range tc.reasons {
			i := strings.Index(all[at:], want)
			if i < 0 {
				t.Errorf("%s: reasons lack %q (after position %d):\n%s", tc.name, want, at, all)
				break
			}
			at += i + len(want)
		}
	}
}

// TestLatencyVsRateMarks: the latency-vs-rate plot draws the SLO across
// its panel, each config's knee as a vertical line in both panels, and a
// cross for each phase cut as saturated. It counts the drawn shapes, not
// the legend's words, which are there whether or not the marks are.
func TestLatencyVsRateMarks(t *testing.T) {
	t.Parallel()
	s := loadFixture(t, simDir)
	sum := s.Summary()
	knees, cut := 0, 0
	for _, r := range sum.Searches {
		if r.CapacityAtSLO != nil && *r.CapacityAtSLO > 0 {
			knees++
		}
	}
	for _, r := range sum.Phases {
		if r.SaturatedAtS != nil {
			cut++
		}
	}
	if knees == 0 || cut == 0 {
		t.Fatalf("the fixture has %d knees and %d saturated phases; the test needs both", knees, cut)
	}
	svg := latencyVsRatePlot(sum).SVG
	if !strings.Contains(svg, "SLO p99 ≤ 1.3s") {
		t.Error("latency-vs-rate.svg lacks the SLO's label")
	}
	const legendLen = 28 // the legend's sample lines are this long
	vertical, sloLines := 0, 0
	for _, m := range polylineRe.FindAllStringSubmatch(svg, -1) {
		x1, y1, x2, y2 := atof(t, m[1]), atof(t, m[2]), atof(t, m[3]), atof(t, m[4])
		switch {
		case m[6] == "2 3" && x1 == x2 && y1 != y2:
			vertical++
		case m[5] == sloColor && m[6] == "8 4" && y1 == y2 && x2-x1 > legendLen:
			sloLines++
		}
	}
	if vertical != 2*knees { // one per knee in each of the two panels
		t.Errorf("%d vertical knee lines, want %d (2 panels × %d knees)", vertical, 2*knees, knees)
	}
	if sloLines != 1 {
		t.Errorf("%d SLO lines across a panel, want 1", sloLines)
	}
	// Without the saturation, the same phases are circles: the crosses
	// (two lines each, at p50 and p99, in both panels) disappear.
	plain := *sum
	plain.Phases = slices.Clone(sum.Phases)
	for i := range plain.Phases {
		plain.Phases[i].SaturatedAtS = nil
	}
	lines := func(svg string) int { return strings.Count(svg, "<line ") }
	// (The legend's cross goes with them too: two lines more.)
	if got, want := lines(svg)-lines(latencyVsRatePlot(&plain).SVG), cut*2*2*2+2; got != want {
		t.Errorf("the saturated phases add %d lines, want %d (a cross at p50 and p99 in 2 panels for %d phases)", got, want, cut)
	}
}

var polylineRe = regexp.MustCompile(`<polyline points="([-\d.]+),([-\d.]+) ([-\d.]+),([-\d.]+)" fill="none" stroke="([^"]+)" stroke-width="2" stroke-linejoin="round"(?: stroke-dasharray="([^"]+)")?/>`)

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
