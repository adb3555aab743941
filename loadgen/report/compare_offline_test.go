package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

func offlineNamed(name string, pc, bk bool, extra string) OfflineResult {
	set, _ := ParseSettings(json.RawMessage(`{"enable_prefix_caching":` + boolStr(pc) + `,"enable_bucketing":` + boolStr(bk) + extra + `}`))
	return OfflineResult{Name: name, Configuration: set, Metrics: OfflineMetrics{ThroughputQueriesPerSec: 1}}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func sweepOf(configs map[string]string, order ...string) *Sweep {
	s := &Sweep{Manifest: &schema.Manifest{}}
	for _, name := range order {
		set, _ := ParseSettings(json.RawMessage(configs[name]))
		s.Configs = append(s.Configs, ConfigResult{Name: name, Settings: set})
	}
	return s
}

func TestMatchOffline(t *testing.T) {
	pcOffBkOn := `{"enable_prefix_caching":false,"enable_bucketing":true,"max_num_seqs":4}`
	for _, tc := range []struct {
		name    string
		off     OfflineResult
		online  map[string]string
		order   []string
		want    string // online name, "" for none
		by      string
		noteHas string
	}{
		// Exact name wins even though another config has the settings.
		{"by name", offlineNamed("cache_OFF_bucketing_ON", false, true, ""),
			map[string]string{"cache_OFF_bucketing_ON": `{}`, "x": pcOffBkOn}, []string{"x", "cache_OFF_bucketing_ON"},
			"cache_OFF_bucketing_ON", MatchedByName, ""},
		// Names differing only in case join by name.
		{"by name, case", offlineNamed("cache_off_bucketing_on", false, true, ""),
			map[string]string{"Cache_OFF_Bucketing_ON": `{}`}, []string{"Cache_OFF_Bucketing_ON"},
			"Cache_OFF_Bucketing_ON", MatchedByName, ""},
		// Different names, same two booleans.
		{"by settings", offlineNamed("cache_OFF_bucketing_ON", false, true, ""),
			map[string]string{"pc-off_bk-on": pcOffBkOn, "pc-on_bk-on": `{"enable_prefix_caching":true,"enable_bucketing":true}`},
			[]string{"pc-on_bk-on", "pc-off_bk-on"}, "pc-off_bk-on", MatchedBySettings, "enable_prefix_caching=false, enable_bucketing=true"},
		// Two online configs with the booleans; max_num_seqs decides.
		{"narrowed", offlineNamed("o", false, true, `,"max_num_seqs":4`),
			map[string]string{"seqs4": pcOffBkOn, "seqs8": `{"enable_prefix_caching":false,"enable_bucketing":true,"max_num_seqs":8}`},
			[]string{"seqs8", "seqs4"}, "seqs4", MatchedBySettings, "every other shared setting"},
		// Two online configs nothing tells apart.
		{"ambiguous", offlineNamed("o", false, true, ""),
			map[string]string{"a": pcOffBkOn, "b": pcOffBkOn}, []string{"a", "b"}, "", "", "ambiguous: a, b"},
		// No online config has the booleans.
		{"none", offlineNamed("o", true, false, ""),
			map[string]string{"a": pcOffBkOn}, []string{"a"}, "", "", "no online config named o or with"},
		// The offline file lacks the booleans.
		{"no booleans", OfflineResult{Name: "o", Configuration: Settings{}},
			map[string]string{"a": pcOffBkOn}, []string{"a"}, "", "", "lacks"},
		// Settings nested in a section of the online record still match.
		{"nested settings", offlineNamed("o", false, true, ""),
			map[string]string{"a": `{"neuron":{"enable_prefix_caching":false,"enable_bucketing":true}}`}, []string{"a"},
			"a", MatchedBySettings, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := MatchOffline([]OfflineResult{tc.off}, sweepOf(tc.online, tc.order...))[0]
			if m.Online != tc.want || m.By != tc.by || !strings.Contains(m.Note, tc.noteHas) {
				t.Errorf("got %+v, want %q by %q with note containing %q", m, tc.want, tc.by, tc.noteHas)
			}
		})
	}
}

func TestMatchOfflineDifferencesAndOneToOne(t *testing.T) {
	off := []OfflineResult{
		offlineNamed("a", false, true, `,"max_num_seqs":4`),
		offlineNamed("b", false, true, `,"max_num_seqs":4`),
	}
	s := sweepOf(map[string]string{"a": `{"enable_prefix_caching":false,"enable_bucketing":true,"max_num_seqs":8}`}, "a")
	ms := MatchOffline(off, s)
	// "a" joins by name and records the differing setting; "b" cannot take
	// the same online config.
	if ms[0].Online != "a" || len(ms[0].Differences) != 1 || !strings.Contains(ms[0].Differences[0], "max_num_seqs: offline 4, online 8") {
		t.Errorf("a: %+v", ms[0])
	}
	if ms[1].Online != "" {
		t.Errorf("b joined %q, but a already took it", ms[1].Online)
	}
}

func TestCompareOfflineGolden(t *testing.T) {
	off, err := LoadOffline(offlineDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dir string }{{"sim", simDir}, {"partial", partialDir}} {
		t.Run(tc.name, func(t *testing.T) {
			c := CompareOffline(off, loadFixture(t, tc.dir))
			var md, js bytes.Buffer
			if err := c.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := c.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join(goldenDir, tc.name, "compare-offline.md"), md.Bytes())
			testkit.Golden(t, filepath.Join(goldenDir, tc.name, "compare-offline.json"), js.Bytes())
		})
	}
}

func TestCompareOfflineSim(t *testing.T) {
	off, _ := LoadOffline(offlineDir)
	c := CompareOffline(off, loadFixture(t, simDir))
	if len(c.Rows) != 4 || len(c.UnmatchedOnline) != 0 {
		t.Fatalf("rows %d unmatched %v", len(c.Rows), c.UnmatchedOnline)
	}
	if c.Sync.Tau == nil || *c.Sync.Tau != 1 || !c.Sync.Agree {
		t.Errorf("sync agreement %+v", c.Sync)
	}
	for _, r := range c.Rows {
		if r.Sync == nil || r.Capacity == nil || len(r.Overhead) != 5 {
			t.Fatalf("%s: %+v", r.Offline, r)
		}
		// The overhead is online − offline, in absolute and relative terms.
		d := r.Overhead[1]
		if d.Stat != "avg (s)" || d.Offline != r.OffStat.AvgS || d.Online != r.Sync.AvgS || round(d.Online-d.Offline, 6) != d.Abs {
			t.Errorf("%s: %+v", r.Offline, d)
		}
	}
	if !c.Simulated || !strings.Contains(c.Banner, "SIMULATED") {
		t.Error("a simulated comparison must say so")
	}
}

// TestCompareOfflineRankings checks the agreement verdicts: a swapped
// pair, and too few configs.
func TestCompareOfflineRankings(t *testing.T) {
	off, _ := LoadOffline(offlineDir)
	s := loadFixture(t, simDir)
	// Make the slowest config's capacity the second best.
	s.Config("prefix-off_bucketing-off").Phase("stress").Result.QueryThroughput = 2.5
	c := CompareOffline(off, s)
	if c.Capacity.Agree || c.Capacity.Tau == nil || *c.Capacity.Tau != 0.3333 || len(c.Capacity.Discordant) != 2 {
		t.Errorf("capacity agreement %+v", c.Capacity)
	}
	var md bytes.Buffer
	c.WriteMarkdown(&md)
	mustContain(t, "comparison", md.String(), "τ_b = 0.333 over 4 configs: the rankings differ; ordered differently:")

	c = CompareOffline(off[:1], s)
	if c.Sync.Tau != nil || !strings.Contains(c.Sync.Note, "n=1") {
		t.Errorf("n=1: %+v", c.Sync)
	}
	if len(c.UnmatchedOnline) != 3 {
		t.Errorf("unmatched online %v", c.UnmatchedOnline)
	}
}
