package profiles

import (
	"io/fs"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// dashNames names keys the way a command line would, to show that every
// message names keys through KeyNames.
type dashNames struct{}

func (dashNames) Key(key string) string            { return "--" + strings.ReplaceAll(key, "_", "-") }
func (dashNames) Setting(key, value string) string { return dashNames{}.Key(key) + " " + value }

// writtenSpec builds a PhaseSpec with the given keys written.
func writtenSpec(ph Phase, keys ...string) PhaseSpec {
	w := map[string]bool{}
	for _, k := range keys {
		w[k] = true
	}
	return PhaseSpec{Phase: ph, Written: w}
}

// TestResolvePhase pins the defaults and derived values of a resolved
// phase; the rules and their messages are pinned by TestInvalid (as a
// profile names keys) and cmd/loadgen's TestRunPhaseRules (as flags do).
func TestResolvePhase(t *testing.T) {
	t.Parallel()
	slo := &SLO{QueryLatency: Duration(2 * time.Second), TTFT: Duration(time.Second)}
	tests := []struct {
		name string
		in   PhaseSpec
		env  PhaseEnv
		want Phase
	}{
		// Sync alone: one pass, the default timeout, named sync.
		{"sync", writtenSpec(Phase{Arrival: ArrivalSync}, "arrival"), PhaseEnv{},
			Phase{Name: "sync", Arrival: ArrivalSync, Burstiness: 1, RequestTimeout: DefaultRequestTimeout}},
		// Values of keys not written are ignored: the key takes its default.
		{"unwritten values", writtenSpec(Phase{Arrival: ArrivalSync, Rate: QPS(3), Burstiness: 7, Queries: 9, Seed: 4, Name: "x"}, "arrival"), PhaseEnv{},
			Phase{Name: "sync", Arrival: ArrivalSync, Burstiness: 1, RequestTimeout: DefaultRequestTimeout}},
		// Rate inf under poisson is arrival inf, named by its cap.
		{"rate inf", writtenSpec(Phase{Arrival: ArrivalPoisson, Rate: RateValue{QPS: InfRate}, MaxConcurrency: 4, Queries: 12}, "arrival", "rate", "max_concurrency", "queries"), PhaseEnv{},
			Phase{Name: "inf-c4", Arrival: ArrivalInf, Rate: RateValue{QPS: InfRate}, Burstiness: 1, MaxConcurrency: 4, Queries: 12, RequestTimeout: DefaultRequestTimeout}},
		// Arrival inf gets rate inf.
		{"inf", writtenSpec(Phase{Arrival: ArrivalInf, MaxConcurrency: 2, Duration: Duration(time.Minute)}, "arrival", "max_concurrency", "duration"), PhaseEnv{},
			Phase{Name: "inf-c2", Arrival: ArrivalInf, Rate: RateValue{QPS: InfRate}, Burstiness: 1, MaxConcurrency: 2, Duration: Duration(time.Minute), RequestTimeout: DefaultRequestTimeout}},
		// Gamma keeps its shape and names it.
		{"gamma", writtenSpec(Phase{Arrival: ArrivalGamma, Rate: QPS(2), Burstiness: 0.5, Queries: 8}, "arrival", "rate", "burstiness", "queries"), PhaseEnv{},
			Phase{Name: "gamma-2-b0.5", Arrival: ArrivalGamma, Rate: QPS(2), Burstiness: 0.5, Queries: 8, RequestTimeout: DefaultRequestTimeout}},
		// A ramp names its ends.
		{"ramp", writtenSpec(Phase{Arrival: ArrivalConstant, Ramp: &Ramp{Strategy: RampLinear, From: QPS(1), To: QPS(4)}, Queries: 8},
			"arrival", "ramp", "ramp.strategy", "ramp.from", "ramp.to", "queries"), PhaseEnv{},
			Phase{Name: "constant-ramp-1-4", Arrival: ArrivalConstant, Burstiness: 1, Ramp: &Ramp{Strategy: RampLinear, From: QPS(1), To: QPS(4)}, Queries: 8, RequestTimeout: DefaultRequestTimeout}},
		// The profile's SLO, overridden key by key by the phase's.
		{"slo", writtenSpec(Phase{Name: "p", Arrival: ArrivalPoisson, Rate: QPS(1), Queries: 2, SLO: &SLO{TTFT: Duration(time.Millisecond)}, RequestTimeout: Duration(time.Second)},
			"name", "arrival", "rate", "queries", "slo", "request_timeout"), PhaseEnv{SLO: slo},
			Phase{Name: "p", Arrival: ArrivalPoisson, Rate: QPS(1), Burstiness: 1, Queries: 2, RequestTimeout: Duration(time.Second),
				SLO: &SLO{QueryLatency: Duration(2 * time.Second), TTFT: Duration(time.Millisecond)}}},
		// A share of capacity names the inf phase that measures it.
		{"relative rate", writtenSpec(Phase{Arrival: ArrivalPoisson, Rate: ShareOf(0.75), Queries: 8}, "arrival", "rate", "queries"),
			PhaseEnv{Capacity: "inf-c4"},
			Phase{Name: "poisson-75pct", Arrival: ArrivalPoisson, Rate: ShareOf(0.75), Burstiness: 1, Queries: 8,
				RequestTimeout: DefaultRequestTimeout, Capacity: "inf-c4"}},
		// So does a ramp with a share at either end.
		{"relative ramp", writtenSpec(Phase{Arrival: ArrivalGamma, Burstiness: 2, Ramp: &Ramp{Strategy: RampExponential, From: ShareOf(0.25), To: QPS(3)}, Duration: Duration(time.Minute)},
			"arrival", "burstiness", "ramp", "ramp.strategy", "ramp.from", "ramp.to", "duration"), PhaseEnv{Capacity: "stress"},
			Phase{Name: "gamma-ramp-25pct-3", Arrival: ArrivalGamma, Burstiness: 2, Ramp: &Ramp{Strategy: RampExponential, From: ShareOf(0.25), To: QPS(3)},
				Duration: Duration(time.Minute), RequestTimeout: DefaultRequestTimeout, Capacity: "stress"}},
		// A search takes its defaults, its threshold from the SLO, its
		// upper bound from the last inf phase and its first guess from the
		// last sync phase; it stops saturated trials.
		{"search", writtenSpec(Phase{Arrival: ArrivalPoisson, Queries: 20, Seed: 4, Search: &Search{}}, "arrival", "queries", "seed", "search"),
			PhaseEnv{SLO: slo, Capacity: "inf-c4", Unloaded: "sync"},
			Phase{Name: "poisson-search", Arrival: ArrivalPoisson, Burstiness: 1, Queries: 20, Seed: 4, RequestTimeout: DefaultRequestTimeout,
				SLO: slo, SaturationStop: true, Capacity: "inf-c4",
				Search: &Search{Metric: "query_latency", Percentile: 99, Max: Duration(2 * time.Second), MaxFailed: 0.01, Tolerance: 0.05,
					MaxTrials: 8, MaxTime: DefaultSearchMaxTime, Unloaded: "sync"}}},
		// A search on TTFT with its own bounds and a probe, without the
		// saturation stop: no capacity phase is needed.
		{"search with a probe", writtenSpec(Phase{Arrival: ArrivalConstant, Duration: Duration(time.Minute), SaturationStop: false,
			Search: &Search{Metric: "ttft", Percentile: 90, MaxFailed: 0, Lower: QPS(0.5), ProbeConcurrency: 8}},
			"arrival", "duration", "saturation_stop", "search", "search.metric", "search.percentile", "search.max_failed", "search.lower", "search.probe_concurrency"),
			PhaseEnv{SLO: slo},
			Phase{Name: "constant-search", Arrival: ArrivalConstant, Burstiness: 1, Duration: Duration(time.Minute), RequestTimeout: DefaultRequestTimeout,
				SLO: slo, Search: &Search{Metric: "ttft", Percentile: 90, Max: Duration(time.Second), Tolerance: 0.05,
					MaxTrials: 8, MaxTime: DefaultSearchMaxTime, Lower: QPS(0.5), ProbeConcurrency: 8}}},
	}
	for _, tc := range tests {
		got, probs := ResolvePhase(tc.in, tc.env, ProfileKeys)
		if len(probs) > 0 {
			t.Errorf("%s: problems %+v", tc.name, probs)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: resolved\n%+v\nwant\n%+v", tc.name, got, tc.want)
		}
		// Resolving the resolved phase again changes nothing: pre-flight
		// relies on it.
		if again, probs := ResolvePhase(writtenOf(got), tc.env, ProfileKeys); len(probs) > 0 || !reflect.DeepEqual(again, got) {
			t.Errorf("%s: resolving again gives %+v, %+v", tc.name, again, probs)
		}
	}
}

// TestResolvePhaseNames: every message names keys through KeyNames, and
// every problem is returned at once, keyed by the key at fault.
func TestResolvePhaseNames(t *testing.T) {
	t.Parallel()
	in := writtenSpec(Phase{Arrival: ArrivalSync, Rate: QPS(2), MaxConcurrency: 4, Queries: 5, Duration: Duration(time.Second), Warmup: -1},
		"arrival", "rate", "max_concurrency", "queries", "duration", "warmup")
	_, probs := ResolvePhase(in, PhaseEnv{}, dashNames{})
	want := []PhaseProblem{
		{"rate", "a sync phase sends the next query when the last one is done, so it has no rate: remove --rate"},
		{"max_concurrency", "a sync phase has one query in flight; for a closed loop of 4 requests in flight use --arrival inf with --max-concurrency 4"},
		{"duration", "set --queries or --duration, not both"},
		{"warmup", "must not be negative, got -1"},
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems\n%+v\nwant\n%+v", probs, want)
	}
	// A problem with the phase as a whole has no key.
	_, probs = ResolvePhase(writtenSpec(Phase{Arrival: ArrivalPoisson, Rate: QPS(1)}, "arrival", "rate"), PhaseEnv{}, dashNames{})
	if len(probs) != 1 || probs[0].Key != "" || probs[0].Msg != "set --queries (how many) or --duration (how long) to end the phase" {
		t.Errorf("no end: %+v", probs)
	}
}

// TestResolveAgain: every phase of every shipped profile resolves again,
// from the values it holds, to itself.
func TestResolveAgain(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(shipped, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		p := loadShippedForTest(t, name)
		env := PhaseEnv{SLO: p.SLO, Synthetic: p.Workload.IsSynthetic()}
		for _, ph := range p.Load {
			if again, probs := ResolvePhase(writtenOf(ph), env, ProfileKeys); len(probs) > 0 || !reflect.DeepEqual(again, ph) {
				t.Errorf("%s: phase %s resolves again to %+v, %+v", name, ph.Name, again, probs)
			}
			env.after(ph)
		}
	}
}

// TestParseRate: run's --rate reads what a profile's rate: reads.
func TestParseRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"2", 2, true},          // a number
		{"0.5", 0.5, true},      // a fraction
		{"-1", -1, true},        // negative: written, and refused by ResolvePhase
		{"inf", InfRate, true},  // every query at once
		{"+Inf", InfRate, true}, // any case, as YAML's .inf
		{".inf", InfRate, true}, // YAML's spelling
		{"fast", 0, false},      // not a rate
		{"NaN", 0, false},       // no number
		{"1e999", 0, false},     // overflows to infinity: write inf
		{"-inf", 0, false},      // no negative infinity
		{"", 0, false},          // nothing
	} {
		got, err := ParseRate(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && (math.IsNaN(float64(got)) || got != 0) {
			t.Errorf("ParseRate(%q) = %v with an error", tc.in, got)
		}
	}
}

// FuzzParseRate: ParseRate never panics and accepts only rates a phase can
// hold (a finite number or +Inf), which render back to themselves.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"2", "0.5", "inf", "-1", "1e999", "NaN", "0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if math.IsNaN(float64(r)) || math.IsInf(float64(r), -1) {
			t.Fatalf("ParseRate(%q) = %v", s, r)
		}
		if back, err := ParseRate(r.String()); err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v, which reads back as %v, %v", s, r, back, err)
		}
	})
}
