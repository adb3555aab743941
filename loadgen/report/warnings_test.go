package report

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"loadgen/loadgen"
)

func TestRateTolerance(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    loadgen.PhaseResult
		want float64
	}{
		// A constant schedule has no randomness: 5%.
		{"constant", loadgen.PhaseResult{Arrival: "constant", QueriesCompleted: 40}, 0.05},
		// Poisson with 40 arrivals: 3/√40.
		{"poisson 40", loadgen.PhaseResult{Arrival: "poisson", Burstiness: 1, QueriesCompleted: 40}, 3 / math.Sqrt(40)},
		// Poisson with 100k arrivals: the 5% floor.
		{"poisson 100k", loadgen.PhaseResult{Arrival: "poisson", Burstiness: 1, QueriesCompleted: 100000}, 0.05},
		// Gamma with shape 4 is smoother: 3/√(n·k).
		{"gamma k=4", loadgen.PhaseResult{Arrival: "gamma", Burstiness: 4, QueriesCompleted: 90, QueriesFailed: 10}, 3 / math.Sqrt(400)},
		// Burstiness left at 0 counts as Poisson.
		{"no burstiness", loadgen.PhaseResult{Arrival: "poisson", QueriesCompleted: 400}, 0.15},
	} {
		if got := rateTolerance(&tc.r); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPhaseWarnings(t *testing.T) {
	on, off := Settings{KeyPrefixCaching: true}, Settings{KeyPrefixCaching: false}
	for _, tc := range []struct {
		name     string
		settings Settings
		r        loadgen.PhaseResult
		want     string // "" = no warning
	}{
		// The dataset wrapped with prefix caching on: hits flatter latency.
		{"cycling, cache on", on, loadgen.PhaseResult{Arrival: "sync", DatasetCycles: 2}, "wrapped 2 times"},
		// Without prefix caching, wrapping is harmless.
		{"cycling, cache off", off, loadgen.PhaseResult{Arrival: "sync", DatasetCycles: 2}, ""},
		// Late arrivals in an open loop.
		{"late", off, loadgen.PhaseResult{Arrival: "poisson", RequestRate: 1, AchievedRate: 1, LateArrivals: 4, LateThresholdMs: 10}, "4 arrivals were sent more than 10 ms late"},
		// At rate inf, waiting for the cap is the point.
		{"late at inf", off, loadgen.PhaseResult{Arrival: "inf", RequestRate: loadgen.Inf, LateArrivals: 40}, ""},
		// Ended by the server dying.
		{"ended early", off, loadgen.PhaseResult{Arrival: "sync", EndReason: "server_exited"}, "ended early (server_exited)"},
		// Far below the target, beyond the schedule's randomness.
		{"below target", off, loadgen.PhaseResult{Arrival: "constant", RequestRate: 10, AchievedRate: 8, QueriesCompleted: 1000}, "below the target 10"},
		// Missing logprobs.
		{"logprobs", off, loadgen.PhaseResult{Arrival: "sync", Quality: &loadgen.Quality{ScoredDocuments: 20, MissingNo: 20}}, "20 lacked \"no\""},
		// The engine's own warnings are passed on.
		{"engine", off, loadgen.PhaseResult{Arrival: "sync", Warnings: []string{"prompts truncated by characters"}}, "prompts truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &ConfigResult{Name: "c", Settings: tc.settings}
			ws := strings.Join(phaseWarnings(c, &Phase{Name: "p", Result: &tc.r}), "\n")
			if tc.want == "" && ws != "" || !strings.Contains(ws, tc.want) {
				t.Errorf("warnings %q, want %q", ws, tc.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	s, err := ParseSettings(json.RawMessage(`{"max_num_seqs":4,"enable_bucketing":true,"name":"x","list":[1],"nested":{"block_size":32},"nil":null}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, want string }{
		{"max_num_seqs", "4"}, {"enable_bucketing", "true"}, {"name", "x"}, {"list", "[1]"}, {"block_size", "32"}, {"nil", "null"},
	} {
		if got, ok := s.String(tc.key); !ok || got != tc.want {
			t.Errorf("String(%s) = %q, %t; want %q", tc.key, got, ok, tc.want)
		}
	}
	if _, ok := s.String("absent"); ok {
		t.Error("absent key found")
	}
	if s.Bool("max_num_seqs") != nil || s.Bool("absent") != nil || s.Bool("enable_bucketing") == nil {
		t.Error("Bool")
	}
	if s, err := ParseSettings(nil); err != nil || len(s) != 0 {
		t.Error("empty settings")
	}
	if _, err := ParseSettings(json.RawMessage(`[1]`)); err == nil {
		t.Error("a non-object must fail")
	}
}
