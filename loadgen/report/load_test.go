package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

func TestLoadSim(t *testing.T) {
	s := loadFixture(t, simDir)
	if len(s.Configs) != 4 || len(s.Problems) != 0 || !s.Simulated() {
		t.Fatalf("configs %d problems %v simulated %t", len(s.Configs), s.Problems, s.Simulated())
	}
	c := s.Config("prefix-off_bucketing-on")
	// Four phases, a search with four trials, and a relative rate.
	if c.Startup == nil || len(c.Phases) != 10 || len(c.Results()) != 10 {
		t.Fatalf("config: startup %v phases %d", c.Startup, len(c.Phases))
	}
	if b := c.Settings.Bool(KeyBucketing); b == nil || !*b {
		t.Error("settings not decoded")
	}
	// The .hlog agrees with the phase JSON it was written with.
	p := c.Phase("sync")
	hs, err := p.Histograms()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{schema.MetricTTFT, schema.MetricQueryLatency} {
		h, st := hs[m], p.Result.Latency[m]
		if h == nil || h.TotalCount() != st.Count || float64(h.ValueAtQuantile(99))/1000 != st.P99 {
			t.Errorf("%s: hlog count %d p99 %v, json count %d p99 %v", m, h.TotalCount(), h.ValueAtQuantile(99), st.Count, st.P99)
		}
	}
	// A phase without .hlog has no histograms and no error.
	if hs, err := c.Phase("poisson-1").Histograms(); hs != nil || err != nil {
		t.Errorf("no hlog: %v %v", hs, err)
	}
}

func TestLoadPartial(t *testing.T) {
	s := loadFixture(t, partialDir)
	if s.Simulated() || len(s.Problems) != 0 {
		t.Fatalf("simulated %t problems %v", s.Simulated(), s.Problems)
	}
	for _, tc := range []struct {
		config    string
		startup   bool
		results   int
		class     string
		firstStat string
	}{
		// Passed.
		{"cache_OFF_bucketing_ON", true, 2, "", schema.StatusOK},
		// Failed at startup: startup.json, no results, phases skipped.
		{"cache_ON_bucketing_OFF", true, 0, "k_shape", schema.StatusSkipped},
		// Interrupted in its second phase, which left a partial result.
		{"cache_OFF_bucketing_OFF", true, 2, "", schema.StatusOK},
		// Crashed in its first phase (partial result); the second skipped.
		{"cache_OFF_bucketing_ON_seqs2", true, 1, "crashed_mid_run", schema.StatusFailed},
		// Pending: nothing on disk.
		{"cache_OFF_bucketing_ON_seqs8", false, 0, "", schema.StatusPending},
	} {
		c := s.Config(tc.config)
		if (c.Startup != nil) != tc.startup || len(c.Results()) != tc.results || c.FailureClass() != tc.class || c.Phases[0].Status != tc.firstStat {
			t.Errorf("%s: startup %t results %d class %q status %q", tc.config, c.Startup != nil, len(c.Results()), c.FailureClass(), c.Phases[0].Status)
		}
	}
}

func TestLoadDamaged(t *testing.T) {
	const cfg = "prefix-on_bucketing-on"
	for _, tc := range []struct {
		name    string
		damage  func(dir string)
		problem string
		check   func(t *testing.T, s *Sweep)
		render  bool // render too: the damage reaches the report
	}{
		{
			// Without a manifest, configs and phases come from the directory.
			name:    "no manifest",
			damage:  func(dir string) { os.Remove(filepath.Join(dir, schema.ManifestFile)) },
			problem: "manifest.json is missing",
			render:  true,
			check: func(t *testing.T, s *Sweep) {
				if len(s.Configs) != 4 || len(s.Config(cfg).Results()) != 10 || !s.Simulated() {
					t.Errorf("reconstructed %d configs", len(s.Configs))
				}
			},
		},
		{
			// A corrupt phase file is a problem, not a failure to load.
			name:    "corrupt phase",
			damage:  func(dir string) { os.WriteFile(filepath.Join(dir, cfg, "sync.json"), []byte("{"), 0o644) },
			problem: "sync.json",
			render:  true,
			check: func(t *testing.T, s *Sweep) {
				if s.Config(cfg).Phase("sync").Result != nil {
					t.Error("corrupt result loaded")
				}
			},
		},
		{
			// The manifest says ok but the file is gone.
			name:    "missing phase",
			damage:  func(dir string) { os.Remove(filepath.Join(dir, cfg, "stress.json")) },
			problem: "status ok but",
		},
		{
			// A corrupt startup record.
			name:    "corrupt startup",
			damage:  func(dir string) { os.WriteFile(filepath.Join(dir, cfg, "startup.json"), []byte("[]"), 0o644) },
			problem: "startup.json",
		},
		{
			// A phase written just before a crash, not yet in the manifest,
			// is picked up from the directory.
			name: "unlisted phase",
			damage: func(dir string) {
				b, _ := os.ReadFile(filepath.Join(dir, cfg, "sync.json"))
				os.WriteFile(filepath.Join(dir, cfg, "extra.json"), b, 0o644)
			},
			check: func(t *testing.T, s *Sweep) {
				p := s.Config(cfg).Phase("extra")
				if p == nil || p.Result == nil || p.Status != schema.StatusOK || !strings.Contains(p.Reason, "not in the manifest") {
					t.Errorf("unlisted phase: %+v", p)
				}
			},
		},
		{
			// A corrupt .hlog is a listed problem of the phase (Load reads
			// every hlog) and fails its histograms; the rest still loads.
			name:    "corrupt hlog",
			problem: "config " + cfg + " phase sync:",
			damage: func(dir string) {
				os.WriteFile(filepath.Join(dir, cfg, "sync.hlog"), []byte("Tag=ttft,0.0,1.0,2.0,notbase64\n"), 0o644)
			},
			check: func(t *testing.T, s *Sweep) {
				if _, err := s.Config(cfg).Phase("sync").Histograms(); err == nil {
					t.Error("corrupt hlog read without error")
				}

			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testkit.CopyDir(t, simDir)
			tc.damage(dir)
			s, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem != "" && !strings.Contains(strings.Join(s.Problems, "\n"), tc.problem) {
				t.Errorf("problems %q lack %q", s.Problems, tc.problem)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			if tc.render {
				if err := Render(dir, s); err != nil {
					t.Errorf("a damaged sweep must still render: %v", err)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("loading a missing directory must fail")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, schema.ManifestFile), []byte("not json"), 0o644)
	if _, err := Load(dir); err == nil {
		t.Error("a corrupt manifest must fail")
	}
}
