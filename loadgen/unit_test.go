package loadgen

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

func TestRepeats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q, n, want int
	}{
		{0, 3, 0},  // nothing measured
		{5, 0, 0},  // no dataset size (streamed or synthetic)
		{-1, 3, 0}, // a negative count is nothing measured
		{1, 3, 0},  // part of one pass
		{3, 3, 0},  // exactly one pass repeats nothing
		{4, 3, 1},  // the 4th query is the first one again
		{6, 3, 1},  // two whole passes: the second repeats
		{7, 3, 2},  // into the third pass
		{1, 1, 0},  // a one-query dataset, sent once
		{2, 1, 1},  // …and sent again
	} {
		if got := repeats(tc.q, tc.n); got != tc.want {
			t.Errorf("repeats(%d, %d) = %d, want %d", tc.q, tc.n, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},                                                         // zero
		{499 * time.Millisecond, "0s"},                                    // rounds down
		{500 * time.Millisecond, "1s"},                                    // rounds half up
		{42 * time.Second, "42s"},                                         // seconds only under a minute
		{59*time.Second + 600*time.Millisecond, "1m00s"},                  // rounding carries into minutes
		{3*time.Minute + 7*time.Second, "3m07s"},                          // seconds padded
		{59*time.Minute + 59*time.Second + 500*time.Millisecond, "1h00m"}, // carries into hours
		{time.Hour + 2*time.Minute + 30*time.Second, "1h02m"},             // seconds dropped over an hour
		{25 * time.Hour, "25h00m"},                                        // no days
	} {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestETA(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var e eta
	e.start(t0, 4)
	for _, step := range []struct {
		done []time.Duration // configs finished at these offsets before now
		now  time.Duration
		want string
	}{
		// Nothing to go by before the first config is done.
		{nil, 5 * time.Minute, ""},
		// One config took 10 minutes: three more take 30.
		{[]time.Duration{10 * time.Minute}, 10 * time.Minute, "~30m00s left"},
		// Five minutes into the second config.
		{nil, 15 * time.Minute, "~25m00s left"},
		// Running late: never a negative estimate.
		{nil, 50 * time.Minute, "~0s left"},
		// Two configs in 30 minutes: 15 each, two more from minute 30.
		{[]time.Duration{30 * time.Minute}, 31 * time.Minute, "~29m00s left"},
	} {
		for _, d := range step.done {
			e.configDone(t0.Add(d))
		}
		if got := e.left(t0.Add(step.now)); got != step.want {
			t.Errorf("at +%v: left = %q, want %q", step.now, got, step.want)
		}
	}
	if got := e.elapsed(t0.Add(31 * time.Minute)); got != 31*time.Minute {
		t.Errorf("elapsed = %v, want 31m", got)
	}
}

// fakeClock is a settable clock for the Printer.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestPrinterPlain(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := NewPrinter(&buf)
	if p.tty {
		t.Fatal("a bytes.Buffer was taken for a terminal")
	}
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p.now = clock.now
	p.Status("status 1") // the first status line is printed
	clock.t = clock.t.Add(DefaultPlainEvery - time.Second)
	p.Status("status 2") // too soon: dropped
	p.Eventf("event %d", 1)
	clock.t = clock.t.Add(time.Second)
	p.Status("status 3") // DefaultPlainEvery after the last printed one
	p.Done()
	want := "status 1\nevent 1\nstatus 3\n"
	if got := buf.String(); got != want {
		t.Errorf("plain output %q, want %q", got, want)
	}
}

func TestPrinterTerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := &fakeClock{}
	p := &Printer{w: &buf, tty: true, now: clock.now}
	p.Status("compiling 3m") // 12 runes, no newline
	p.Status("é 1s")         // cleared by rune count, then rewritten in place
	p.Eventf("ready")        // clears the status line, then a permanent line
	p.Done()                 // nothing to clear
	p.Status("ab")
	p.Done()
	want := "compiling 3m" + "\r" + strings.Repeat(" ", 12) + "\r" + "é 1s" +
		"\r    \r" + "ready\n" + "ab" + "\r  \r"
	if got := buf.String(); got != want {
		t.Errorf("terminal output %q, want %q", got, want)
	}
}

func TestPrinterNil(t *testing.T) {
	t.Parallel()
	var p *Printer // a command without progress output
	p.Eventf("x")
	p.Status("y")
	p.Done()
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
	}{
		{"buffer", &bytes.Buffer{}}, // not a file at all
		{"regular file", f},         // a log file
	} {
		if IsTerminal(tc.w) {
			t.Errorf("%s taken for a terminal", tc.name)
		}
	}
}

func finding(class schema.FailureClass, fatal bool, line string) schema.LogFinding {
	return schema.LogFinding{Class: class, Fatal: fatal, Line: line, Message: "msg: " + line}
}

func TestVoidingFinding(t *testing.T) {
	t.Parallel()
	ignored := finding(schema.NoteArtifactsReused, false, "WARNING: Using pre-compiled artifacts, override_neuron_config will be ignored")
	note := finding(schema.NoteNeuronConfig, false, "NeuronConfig init: Unexpected keyword arguments: {'tile_cc': False}")
	typo := finding(schema.FailureInvalidConfig, false, "NeuronConfig init: Unexpected keyword arguments: {'enable_bucketting': True}")
	fatal := finding(schema.FailureKShape, true, "AttributeError: 'BlockKVCacheManager' object has no attribute 'k_shape'")
	for _, tc := range []struct {
		name     string
		findings []schema.LogFinding
		ours     bool
		want     string // the voiding finding's line, "" for none
	}{
		// No findings, nothing voided.
		{"clean start", nil, false, ""},
		// Artifacts loadgen recorded for exactly this config: the line is
		// the plugin's normal cache hit.
		{"override ignored, our artifacts", []schema.LogFinding{ignored}, true, ""},
		// Artifacts with no loadgen record (or another config's): the
		// override was really ignored.
		{"override ignored, foreign artifacts", []schema.LogFinding{ignored}, false, ignored.Line},
		// A typo in the override voids the run whatever the artifacts.
		{"typo, our artifacts", []schema.LogFinding{ignored, typo}, true, typo.Line},
		// The first voiding finding is reported.
		{"both, foreign artifacts", []schema.LogFinding{ignored, typo}, false, ignored.Line},
		// Fatal findings fail the start; they are not a voided run.
		{"fatal only", []schema.LogFinding{fatal}, false, ""},
		// NxDI's derived keys on reuse are a note.
		{"derived keys on reuse", []schema.LogFinding{note, ignored}, true, ""},
	} {
		got := voidingFinding(schema.Startup{Findings: tc.findings}, tc.ours)
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("%s: voided by %q, want not voided", tc.name, got.Line)
		case tc.want != "" && (got == nil || got.Line != tc.want):
			t.Errorf("%s: voided by %v, want %q", tc.name, got, tc.want)
		}
	}
}

func TestArtifactsRecord(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cfg-0123abcd")
	c := profiles.Config{Name: "cfg", ArtifactsDir: dir, AdditionalConfig: `{"override_neuron_config":{"enable_bucketing":true}}`}
	const v = "0.10.2"
	if artifactsMatch(c, v) {
		t.Error("an empty artifacts directory matches")
	}
	recordArtifacts(c, v)
	if !artifactsMatch(c, v) {
		t.Fatal("the record just written does not match")
	}
	// Compiled under another vLLM/vllm-neuron: the record does not vouch.
	if artifactsMatch(c, "0.11.0") {
		t.Error("the record matches another server version")
	}
	// Another compiler environment changes the graphs too.
	flags := c
	flags.Server.Env = []string{"NEURON_CC_FLAGS=--optlevel 1"}
	if artifactsMatch(flags, v) {
		t.Error("the record matches another NEURON_CC_FLAGS")
	}
	// The runtime's variables do not.
	cores := c
	cores.Server.Env = []string{"NEURON_RT_VISIBLE_CORES=2-3"}
	if !artifactsMatch(cores, v) {
		t.Error("NEURON_RT_VISIBLE_CORES voids the record")
	}
	// A config whose override differs (same directory, e.g. shared by
	// hand) is not the one the artifacts were compiled for.
	other := c
	other.AdditionalConfig = `{"override_neuron_config":{"enable_bucketing":false}}`
	if artifactsMatch(other, v) {
		t.Error("the record matches a config with another override")
	}
	renamed := c
	renamed.Name = "other"
	if artifactsMatch(renamed, v) {
		t.Error("the record matches another config's name")
	}
	// Another stack (NxDI 2.26 vs 2.27 both run vLLM 0.11.0) compiled
	// other graphs; a record from before stacks were recorded vouches.
	stacked := c
	stacked.Server.Stack = "2.27"
	recordArtifacts(stacked, v)
	older := stacked
	older.Server.Stack = "2.26"
	if !artifactsMatch(stacked, v) || artifactsMatch(older, v) {
		t.Error("the record does not tell the stacks apart")
	}
	if err := os.WriteFile(filepath.Join(dir, artifactsRecordFile), []byte(`{"config":"cfg","key":"cfg-0123abcd","additional_config":"{\"override_neuron_config\":{\"enable_bucketing\":true}}","server_version":"0.10.2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if !artifactsMatch(stacked, v) {
		t.Error("a record without a stack does not vouch")
	}
	// A damaged record is not ours.
	if err := os.WriteFile(filepath.Join(dir, artifactsRecordFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if artifactsMatch(c, v) {
		t.Error("a damaged record matches")
	}
	// Remote servers have no artifacts directory: nothing is written.
	remote := profiles.Config{Name: "remote"}
	recordArtifacts(remote, v)
	if artifactsMatch(remote, v) {
		t.Error("a config without an artifacts directory matches")
	}
}

// countingTransport counts CloseIdleConnections and records requests.
type countingTransport struct {
	closed int
	auth   []string
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.auth = append(c.auth, req.Header.Get("Authorization"))
	return nil, errors.New("no network in this test")
}

func (c *countingTransport) CloseIdleConnections() { c.closed++ }

func TestBearer(t *testing.T) {
	t.Parallel()
	inner := &countingTransport{}
	client := &http.Client{Transport: bearer{key: "sk-test", next: inner}}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Do(req); err == nil {
		t.Fatal("the fake transport answered")
	}
	if !slices.Equal(inner.auth, []string{"Bearer sk-test"}) || req.Header.Get("Authorization") != "" {
		t.Errorf("sent %q, caller's request now has %q; want the bearer token on a copy", inner.auth, req.Header.Get("Authorization"))
	}
	client.CloseIdleConnections()
	if inner.closed != 1 {
		t.Errorf("CloseIdleConnections reached the transport %d times, want 1", inner.closed)
	}
}

func TestClassReasonAndOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		class  schema.FailureClass
		reason string
		want   string
	}{
		{schema.FailureNone, "cannot create dir", "cannot create dir"},       // no class to name
		{schema.FailureKShape, "set both", "k_shape: set both"},              // class prefixed
		{schema.FailureKShape, "k_shape: set both", "k_shape: set both"},     // not twice
		{schema.FailureCrashed, "k_shape: x", "crashed_mid_run: k_shape: x"}, // another class's prefix stays
	} {
		if got := classReason(tc.class, tc.reason); got != tc.want {
			t.Errorf("classReason(%q, %q) = %q, want %q", tc.class, tc.reason, got, tc.want)
		}
	}
	if got := oneLine(errors.New("first\nsecond")); got != "first" {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine(nil); got != "" {
		t.Errorf("oneLine(nil) = %q", got)
	}
	if got := clip("abcdef", 4); got != "abc…" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("abc", 4); got != "abc" {
		t.Errorf("clip of a short string = %q", got)
	}
}

// TestPlan checks the dry-run plan: --simulate swaps in the simulator and
// its settings, --only selects, and bad input is ErrBadInput.
func TestPlan(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "plan", twoConfigs)
	o, _ := simOptions(t, p)
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Configs) != 2 {
		t.Fatalf("%d configs, want 2", len(plan.Configs))
	}
	s := plan.Configs[0].Server
	if !slices.Equal(s.Argv[:4], []string{os.Args[0], "sim", "serve", "/models/Qwen3-Reranker-0.6B"}) || s.Host != "127.0.0.1" || s.Port != o.Port {
		t.Errorf("simulated argv %q on %s:%d", s.Argv, s.Host, s.Port)
	}
	for _, kv := range []string{"LOADGEN_SIM_SPEED=100", "LOADGEN_SIM_STARTUP_SPEED=100", "LOADGEN_SIM_SEED=0"} {
		if !slices.Contains(s.Env, kv) {
			t.Errorf("simulated env %q lacks %s", s.Env, kv)
		}
	}
	if !strings.HasPrefix(plan.Configs[0].ArtifactsDir, o.Sim.ArtifactsRoot+string(filepath.Separator)+"a-") {
		t.Errorf("artifacts dir %q is not under the simulator's root %q", plan.Configs[0].ArtifactsDir, o.Sim.ArtifactsRoot)
	}
	o.Only = []string{"b"}
	if plan, err = Plan(o); err != nil || len(plan.Configs) != 1 || plan.Configs[0].Name != "b" {
		t.Errorf("--only b: %v, %v", plan, err)
	}
	o.Only = []string{"nope"}
	if _, err := Plan(o); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "--only") {
		t.Errorf("--only nope: %v, want ErrBadInput naming --only", err)
	}
	if _, err := Plan(Options{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("no profile: %v, want ErrBadInput", err)
	}
}

// TestPhaseTokenizePace paces prompt building during a phase by its target
// rate, never below the floor.
func TestPhaseTokenizePace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ph   profiles.Phase
		docs int
		want float64
	}{
		// 10 q/s × 20 documents × (tokenize + detokenize) × 2.
		{"open loop", profiles.Phase{Arrival: profiles.ArrivalPoisson, Rate: profiles.QPS(10)}, 20, 800},
		// A slow phase still gets the floor.
		{"slow", profiles.Phase{Arrival: profiles.ArrivalPoisson, Rate: profiles.QPS(0.5)}, 20, minPhaseTokenize},
		// No target rate: the floor.
		{"sync", profiles.Phase{Arrival: profiles.ArrivalSync}, 20, minPhaseTokenize},
		{"inf", profiles.Phase{Arrival: profiles.ArrivalInf, Rate: profiles.RateValue{QPS: profiles.InfRate}}, 20, minPhaseTokenize},
		// A ramp is paced for its highest rate.
		{"ramp", profiles.Phase{Arrival: profiles.ArrivalPoisson, Ramp: &profiles.Ramp{From: profiles.QPS(1), To: profiles.QPS(5)}}, 20, 400},
	} {
		if got := phaseTokenizePace(tc.ph, tc.docs); got != tc.want {
			t.Errorf("%s: phaseTokenizePace = %g, want %g", tc.name, got, tc.want)
		}
	}
}
