package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOfflineShipped(t *testing.T) {
	off, err := LoadOffline(offlineDir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"cache_OFF_bucketing_ON": 3.0975, "cache_ON_bucketing_ON": 2.3225,
		"cache_ON_bucketing_OFF": 0.8718, "cache_OFF_bucketing_OFF": 0.8151}
	if len(off) != len(want) {
		t.Fatalf("%d results", len(off))
	}
	for _, o := range off {
		m := o.Metrics
		if m.ThroughputQueriesPerSec != want[o.Name] || m.TotalQueries != 10 || o.RawTimes != nil ||
			m.MinTimePerQuery != nil || m.MaxTimePerQuery != nil {
			t.Errorf("%s: %+v", o.Name, m)
		}
		// The script's identity: throughput = total_queries / total_time.
		if got := float64(m.TotalQueries) / m.TotalTime; got-m.ThroughputQueriesPerSec > 1e-9 {
			t.Errorf("%s: total_time %v inconsistent", o.Name, m.TotalTime)
		}
		pc, bk := o.Configuration.Bool(KeyPrefixCaching), o.Configuration.Bool(KeyBucketing)
		if pc == nil || bk == nil || strings.Contains(o.Name, "cache_ON") != *pc || strings.HasSuffix(o.Name, "bucketing_ON") != *bk {
			t.Errorf("%s: configuration booleans %v %v", o.Name, pc, bk)
		}
		if v, _ := o.Configuration.String("max_num_seqs"); v != "4" {
			t.Errorf("%s: max_num_seqs %q", o.Name, v)
		}
	}
}

func TestLoadOfflinePaths(t *testing.T) {
	dir := t.TempDir()
	good := `{"configuration":{"enable_prefix_caching":false},"metrics":{"throughput_queries_per_sec":2,"p50_time":0.5},"raw_times":[0.5,0.5]}`
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(good), 0o644)
	// The offline benchmark's own config file sits in the same directory.
	os.WriteFile(filepath.Join(dir, "test_configs.json"), []byte(`{"model":"m","test_configs":[]}`), 0o644)
	off, err := LoadOffline(dir)
	if err != nil || len(off) != 1 || off[0].Name != "a" || len(off[0].RawTimes) != 2 {
		t.Fatalf("dir: %v %+v", err, off)
	}
	// A file named explicitly must be a result.
	if _, err := LoadOffline(filepath.Join(dir, "test_configs.json")); err == nil {
		t.Error("an explicit non-result file must fail")
	}
	// The same config twice.
	if _, err := LoadOffline(dir, filepath.Join(dir, "a.json")); err == nil || !strings.Contains(err.Error(), "both name") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := LoadOffline(t.TempDir()); err == nil {
		t.Error("an empty directory must fail")
	}
	if _, err := LoadOffline(filepath.Join(dir, "absent")); err == nil {
		t.Error("a missing path must fail")
	}
}

func TestParseOffline(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		// Python writes NaN for a metric of no queries; say why it fails.
		{"nan", `{"metrics":{"throughput_queries_per_sec":NaN}}`, "NaN"},
		// No throughput to rank by.
		{"zero throughput", `{"metrics":{"throughput_queries_per_sec":0}}`, "throughput_queries_per_sec"},
		// Not an offline result at all.
		{"no metrics", `{"configuration":{}}`, "no \"metrics\""},
		// A configuration that is not an object.
		{"bad configuration", `{"configuration":[1],"metrics":{"throughput_queries_per_sec":1}}`, "configuration"},
		// Not JSON.
		{"garbage", `nope`, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseOffline("x", []byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func FuzzParseOffline(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join(offlineDir, "cache_OFF_bucketing_ON.json"))
	f.Add(b)
	f.Add([]byte(`{"configuration":{"a":{"enable_bucketing":true}},"metrics":{"throughput_queries_per_sec":1e308},"raw_times":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseOffline("f", data)
		if err != nil {
			return
		}
		if !(r.Metrics.ThroughputQueriesPerSec > 0) {
			t.Fatalf("accepted throughput %v", r.Metrics.ThroughputQueriesPerSec)
		}
		r.Configuration.Bool(KeyBucketing)
		r.Configuration.String(KeyPrefixCaching)
	})
}
