package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
)

func TestCompareRunsSame(t *testing.T) {
	c := CompareRuns(loadFixture(t, simDir), loadFixture(t, simDir))
	if c.Flagged != 0 || c.Mixed || len(c.Warnings) != 0 || len(c.Deltas) == 0 {
		t.Fatalf("flagged %d mixed %t warnings %v deltas %d", c.Flagged, c.Mixed, c.Warnings, len(c.Deltas))
	}
	for _, d := range c.Deltas {
		if d.Abs != 0 {
			t.Errorf("%+v", d)
		}
	}
}

// scaleLatency multiplies a phase's query-latency statistics.
func scaleLatency(s *Sweep, config, phase string, f float64) {
	r := s.Config(config).Phase(phase).Result
	st := r.Latency[schema.MetricQueryLatency]
	st.Mean, st.P50, st.P95, st.P99 = st.Mean*f, st.P50*f, st.P95*f, st.P99*f
	r.Latency[schema.MetricQueryLatency] = st
}

func TestCompareRunsFlags(t *testing.T) {
	const cfg = "prefix-off_bucketing-on"
	for _, tc := range []struct {
		name   string
		modify func(b *Sweep)
		metric string
		phase  string
		flag   string
	}{
		// 20% slower queries: beyond 5%, a regression.
		{"latency regression", func(b *Sweep) { scaleLatency(b, cfg, "sync", 1.2) }, "p50_query_latency_ms", "sync", FlagRegression},
		// 2% slower: within run-to-run noise.
		{"latency noise", func(b *Sweep) { scaleLatency(b, cfg, "sync", 1.02) }, "p50_query_latency_ms", "sync", ""},
		// 20% faster: an improvement.
		{"latency improvement", func(b *Sweep) { scaleLatency(b, cfg, "sync", 0.8) }, "p99_query_latency_ms", "sync", FlagImprovement},
		// Schedule lag doubled but stays under a millisecond: not flagged.
		{"sub-millisecond", func(b *Sweep) {
			r := b.Config(cfg).Phase("sync").Result
			st := r.Latency[schema.MetricScheduleLag]
			st.P99 *= 2
			r.Latency[schema.MetricScheduleLag] = st
		}, "p99_schedule_lag_ms", "sync", ""},
		// Throughput down 10%.
		{"throughput regression", func(b *Sweep) { b.Config(cfg).Phase("stress").Result.QueryThroughput *= 0.9 }, "query_throughput", "stress", FlagRegression},
		// The offered load moved: neither better nor worse.
		{"achieved rate", func(b *Sweep) { b.Config(cfg).Phase("poisson-1").Result.AchievedRate *= 1.5 }, "achieved_rate", "poisson-1", FlagChanged},
		// Any new failed request is a regression.
		{"failures", func(b *Sweep) { b.Config(cfg).Phase("sync").Result.Failed = 1 }, "requests_failed", "sync", FlagRegression},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := loadFixture(t, simDir)
			tc.modify(b)
			c := CompareRuns(loadFixture(t, simDir), b)
			var found *RunDelta
			for i, d := range c.Deltas {
				if d.Config == cfg && d.Phase == tc.phase && d.Metric == tc.metric {
					found = &c.Deltas[i]
				}
			}
			if found == nil {
				t.Fatalf("no delta for %s", tc.metric)
			}
			if found.Flag != tc.flag {
				t.Errorf("%s: flag %q, want %q (%+v)", tc.metric, found.Flag, tc.flag, *found)
			}
			if (tc.flag == FlagRegression) != (c.Regressions > 0) {
				t.Errorf("regressions %d", c.Regressions)
			}
		})
	}
}

func TestCompareRunsMixed(t *testing.T) {
	a, b := loadFixture(t, simDir), loadFixture(t, partialDir)
	c := CompareRuns(a, b)
	if !c.Mixed || !strings.Contains(c.Warnings[0], "SIMULATED RUN WITH A REAL ONE") {
		t.Fatalf("mixed %t warnings %v", c.Mixed, c.Warnings)
	}
	var md bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	if strings.Count(out, "> **WARNING: COMPARING A SIMULATED RUN WITH A REAL ONE") != 2 {
		t.Error("the mixed warning must open and close the report")
	}
	// Different profiles and configs on one side only are warned about.
	mustContain(t, "warnings", strings.Join(c.Warnings, "\n"), "the profiles differ", "config prefix-on_bucketing-on is only in A",
		"config cache_OFF_bucketing_ON is only in B")
}

func TestCompareRunsGolden(t *testing.T) {
	a, b := loadFixture(t, partialDir), loadFixture(t, partialDir)
	scaleLatency(b, "cache_OFF_bucketing_ON", "sync", 1.3)
	b.Config("cache_OFF_bucketing_ON").Phase("stress").Result.QueryThroughput *= 1.1
	// A phase with results only in B (A's interrupted phase left none).
	a.Config("cache_OFF_bucketing_OFF").Phase("stress").Result = nil
	b.Config("cache_OFF_bucketing_OFF").Phase("stress").Result = b.Config("cache_OFF_bucketing_ON").Phase("stress").Result
	a.Dir, b.Dir = "results/a", "results/b"
	c := CompareRuns(a, b)
	var md, js bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, filepath.Join(goldenDir, "partial/compare-runs.md"), md.Bytes())
	testkit.Golden(t, filepath.Join(goldenDir, "partial/compare-runs.json"), js.Bytes())
}
