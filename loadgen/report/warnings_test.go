package report

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
)

func TestRateTolerance(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    schema.PhaseResult
		want float64
	}{
		// A constant schedule has no randomness: 5%.
		{"constant", schema.PhaseResult{Arrival: "constant", QueriesCompleted: 40}, 0.05},
		// Poisson with 40 arrivals: 3/√40.
		{"poisson 40", schema.PhaseResult{Arrival: "poisson", Burstiness: 1, QueriesCompleted: 40}, 3 / math.Sqrt(40)},
		// Poisson with 100k arrivals: the 5% floor.
		{"poisson 100k", schema.PhaseResult{Arrival: "poisson", Burstiness: 1, QueriesCompleted: 100000}, 0.05},
		// Gamma with shape 4 is smoother: 3/√(n·k).
		{"gamma k=4", schema.PhaseResult{Arrival: "gamma", Burstiness: 4, QueriesCompleted: 90, QueriesFailed: 10}, 3 / math.Sqrt(400)},
		// Burstiness left at 0 counts as Poisson.
		{"no burstiness", schema.PhaseResult{Arrival: "poisson", QueriesCompleted: 400}, 0.15},
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
		r        schema.PhaseResult
		want     string // "" = no warning or note
		note     bool   // want is a note, not a warning
	}{
		// The dataset wrapped with prefix caching on: hits flatter latency.
		{"cycling, cache on", on, schema.PhaseResult{Arrival: "sync", DatasetCycles: 2}, "wrapped 2 times", false},
		// Without prefix caching, wrapping only repeats prompts: a note.
		{"cycling, cache off", off, schema.PhaseResult{Arrival: "sync", DatasetCycles: 2}, "dataset wrapped 2 times: prompts repeated", true},
		// One wrap reads as such.
		{"cycling once, cache off", off, schema.PhaseResult{Arrival: "sync", DatasetCycles: 1}, "dataset wrapped 1 time: prompts repeated", true},
		// The setting is not recorded: it may have been on, so a warning
		// that says what caching would do.
		{"cycling, cache unknown", Settings{}, schema.PhaseResult{Arrival: "sync", DatasetCycles: 3}, "wrapped 3 times: prompts repeated (prefix caching not recorded", false},
		// No wrap, no note.
		{"no cycling", off, schema.PhaseResult{Arrival: "sync"}, "", false},
		// Late arrivals in an open loop.
		{"late", off, schema.PhaseResult{Arrival: "poisson", RequestRate: 1, AchievedRate: 1, LateArrivals: 4, LateThresholdMs: 10}, "4 arrivals were sent more than 10 ms late", false},
		// At rate inf, waiting for the cap is the point.
		{"late at inf", off, schema.PhaseResult{Arrival: "inf", RequestRate: schema.Inf, LateArrivals: 40}, "", false},
		// Ended by the server dying.
		{"ended early", off, schema.PhaseResult{Arrival: "sync", EndReason: "server_exited"}, "ended early (server_exited)", false},
		// Far below the target, beyond the schedule's randomness.
		{"below target", off, schema.PhaseResult{Arrival: "constant", RequestRate: 10, AchievedRate: 8, QueriesCompleted: 1000}, "below the target 10", false},
		// Missing logprobs.
		{"logprobs", off, schema.PhaseResult{Arrival: "sync", Quality: &schema.Quality{ScoredDocuments: 20, MissingNo: 20}}, "20 lacked \"no\"", false},
		// The engine's own warnings are passed on.
		{"engine", off, schema.PhaseResult{Arrival: "sync", Warnings: []string{"prompts truncated by characters"}}, "prompts truncated", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &ConfigResult{Name: "c", Settings: tc.settings, Status: schema.ConfigStatus{PrefixCacheReset: schema.ResetOK}}
			p := &Phase{Name: "p", Result: &tc.r}
			ws, notes := strings.Join(phaseWarnings(c, p), "\n"), strings.Join(phaseNotes(c, p), "\n")
			got := ws
			if tc.note {
				got = notes
			}
			if tc.want == "" && ws+notes != "" || !strings.Contains(got, tc.want) {
				t.Errorf("warnings %q, notes %q; want %q in the %s", ws, notes, tc.want, map[bool]string{true: "notes", false: "warnings"}[tc.note])
			}
		})
	}
}

// TestResetWarnings checks the prefix-cache reset caveats: refused and
// failed resets read differently, and warmup queries may have warmed the
// cache unless it was reset after them.
func TestResetWarnings(t *testing.T) {
	on, off := Settings{KeyPrefixCaching: true}, Settings{KeyPrefixCaching: false}
	warmup := schema.PhaseResult{Arrival: "sync", WarmupQueries: 2}
	for _, tc := range []struct {
		name     string
		reset    string
		settings Settings
		want     []string // substrings of the config's warnings
		not      string   // a substring that must be absent ("" = none)
	}{
		// Reset after the warmup: nothing to say.
		{"ok", schema.ResetOK, on, nil, "warm"},
		// Refused by the server (no dev mode): every phase after the first
		// and every measured part after a warmup may hit the cache.
		{"refused", schema.ResetUnsupported, on, []string{"the server refused to reset its prefix cache",
			"the prefix cache was not reset after the 2 warmup queries (refused by the server), so warmup prompts may have warmed the cache for the measured part"}, "failed"},
		// Failed (transient error, server gone): said differently.
		{"failed", schema.ResetFailed, on, []string{"resetting the prefix cache failed (transient error or the server was gone)",
			"not reset after the 2 warmup queries (the reset failed)"}, "refused"},
		// Never attempted (an old manifest, a remote server).
		{"not attempted", "", on, []string{"not reset after the 2 warmup queries (no reset was attempted)"}, ""},
		// Prefix caching off: no cache for the warmup to warm.
		{"cache off", schema.ResetFailed, off, []string{"resetting the prefix cache failed"}, "warmup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := warmup
			c := &ConfigResult{Name: "c", Settings: tc.settings, Status: schema.ConfigStatus{Status: schema.StatusOK, PrefixCacheReset: tc.reset},
				Phases: []*Phase{{Name: "p", Status: schema.StatusOK, Result: &r}}}
			var ws []string
			for _, w := range configWarnings(c) {
				ws = append(ws, w.text)
			}
			got := strings.Join(ws, "\n")
			mustContain(t, "warnings", got, tc.want...)
			if tc.not != "" && strings.Contains(got, tc.not) {
				t.Errorf("warnings %q contain %q", got, tc.not)
			}
		})
	}
}

// TestResetCell checks the server table's cache-reset column, including
// the values of manifests written before "failed" existed.
func TestResetCell(t *testing.T) {
	for _, tc := range []struct{ status, want string }{
		{schema.ResetOK, "yes"},                                 // reset before every phase
		{schema.ResetUnsupported, "no (refused by the server)"}, // no dev mode: 404/405
		{schema.ResetFailed, "no (failed)"},                     // transient error, server gone
		{"", dash},                                              // not attempted (old manifests, too)
		{"timeout", "no (timeout)"},                             // a status from a newer loadgen is shown as is
	} {
		if got := resetCell(tc.status); got != tc.want {
			t.Errorf("resetCell(%q) = %q, want %q", tc.status, got, tc.want)
		}
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
