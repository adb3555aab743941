package loadgen

import (
	"bytes"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/server"
	"loadgen/server/servertest"
)

// twoConfigs are a config without and one with prefix caching.
const twoConfigs = `configs:
  - name: a
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: b
    enable_prefix_caching: true
    pa_num_blocks: 64
`

// TestSimulatedSweep runs two configs × two phases against the simulator
// and checks every output of a results directory.
func TestSimulatedSweep(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "twobytwo", twoConfigs+`load:
  - arrival: sync
  - arrival: poisson
    rate: 20
    queries: 4
    seed: 1
`)
	o, progress := simOptions(t, p)
	out := runSweep(t, o)

	if out.Passed != 2 || out.Failed != 0 || out.Skipped != 0 || out.Interrupted {
		t.Errorf("outcome %+v, want 2 passed", *out)
	}
	if len(out.Problems) > 0 {
		t.Errorf("report problems: %q", out.Problems)
	}
	if out.Dir != o.Out {
		t.Errorf("Dir = %q, want %q", out.Dir, o.Out)
	}
	m := readManifest(t, o.Out)
	if m.Status != schema.SweepCompleted || !m.Simulated || m.Sim == nil || m.Sim.SpeedFactor != 100 {
		t.Errorf("manifest status %q simulated %v sim %+v, want completed, simulated at speed 100", m.Status, m.Simulated, m.Sim)
	}
	if m.ProfileHash != p.Hash() || m.LoadgenVersion != "test" || m.EndedAt.IsZero() || len(m.ResolvedProfile) == 0 {
		t.Errorf("manifest header: hash %q version %q ended %v resolved %d bytes", m.ProfileHash, m.LoadgenVersion, m.EndedAt, len(m.ResolvedProfile))
	}
	want := map[string]int{"sync": 3, "poisson-20": 4} // one pass over 3 queries; 4 queries
	for _, c := range []string{"a", "b"} {
		cs := wantStatuses(t, m, c, schema.StatusOK, map[string]string{"sync": schema.StatusOK, "poisson-20": schema.StatusOK})
		if cs.FailureClass != "" || cs.PrefixCacheReset != schema.ResetOK {
			t.Errorf("config %s: failure class %q, prefix cache reset %q; want none and ok", c, cs.FailureClass, cs.PrefixCacheReset)
		}
		checkConfigFiles(t, o.Out, c, o.Port)
		for phase, queries := range want {
			checkPhaseFiles(t, o.Out, c, phase, queries)
		}
		servertest.AssertServerGone(t, o.Out, c)
	}
	checkReportFiles(t, o.Out)
	if s := progress.String(); !strings.Contains(s, "(SIMULATED)") || !strings.Contains(s, "[2/2] b: ready in") {
		t.Errorf("progress lacks the SIMULATED header or the second config:\n%s", s)
	}
}

// checkConfigFiles checks command.txt, server.log and startup.json.
func checkConfigFiles(t *testing.T, dir, config string, port int) {
	t.Helper()
	cmd, err := os.ReadFile(filepath.Join(dir, config, "command.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sim serve /models/Qwen3-Reranker-0.6B", "--port " + strconv.Itoa(port), "LOADGEN_SIM_SPEED=100", "NEURON_COMPILED_ARTIFACTS=", "--additional-config"} {
		if !bytes.Contains(cmd, []byte(s)) {
			t.Errorf("%s/command.txt lacks %q:\n%s", config, s, cmd)
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, config, server.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("Application startup complete")) || !bytes.Contains(log, []byte("SIMULATED")) {
		t.Errorf("%s/server.log is not the simulator's log:\n%.600s", config, log)
	}
	st := servertest.ReadStartup(t, dir, config)
	if !st.Ready || st.ReadySeconds <= 0 || st.PID <= 0 || st.FailureClass != "" || st.CompiledArtifacts != "miss" || st.ExitCode == nil {
		t.Errorf("%s/startup.json: ready %v in %gs, pid %d, class %q, artifacts %q, exit code %v; want ready, a pid, no failure, a compile (miss), an exit code",
			config, st.Ready, st.ReadySeconds, st.PID, st.FailureClass, st.CompiledArtifacts, st.ExitCode)
	}
}

// checkPhaseFiles checks <phase>.json and <phase>.hlog.
func checkPhaseFiles(t *testing.T, dir, config, phase string, queries int) {
	t.Helper()
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(dir, schema.PhaseFile(config, phase)), &res)
	if !res.Simulated || res.EndReason != schema.EndCompleted || res.QueriesCompleted != queries || res.QueriesFailed != 0 ||
		res.Config != config || res.Phase != phase {
		t.Errorf("%s/%s.json: simulated %v, end %q, %d ok + %d failed queries, config %q phase %q; want simulated, completed, %d ok",
			config, phase, res.Simulated, res.EndReason, res.QueriesCompleted, res.QueriesFailed, res.Config, res.Phase, queries)
	}
	if want := 2 * queries; res.Completed != want { // 4 documents, 2 per request
		t.Errorf("%s/%s.json: %d requests completed, want %d", config, phase, res.Completed, want)
	}
	hs, err := schema.ReadHlogFile(filepath.Join(dir, schema.HlogFile(config, phase)))
	if err != nil {
		t.Fatalf("%s/%s.hlog: %v", config, phase, err)
	}
	q := hs[schema.MetricQueryLatency]
	if q == nil || q.TotalCount() != int64(queries) {
		t.Errorf("%s/%s.hlog: query latency histogram %v, want %d values (tags %v)", config, phase, q, queries, keys(hs))
	}
}

// checkReportFiles checks that summary.md/json/csv and report.html exist,
// parse and say SIMULATED.
func checkReportFiles(t *testing.T, dir string) {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(dir, report.SummaryMarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("SIMULATED")) {
		t.Errorf("summary.md lacks SIMULATED:\n%s", md)
	}
	var sum report.Summary
	testkit.ReadJSON(t, filepath.Join(dir, report.SummaryJSONFile), &sum)
	if !sum.Simulated || sum.Banner == "" || len(sum.Ranking) == 0 {
		t.Errorf("summary.json: simulated %v banner %q, %d ranking rows", sum.Simulated, sum.Banner, len(sum.Ranking))
	}
	f, err := os.Open(filepath.Join(dir, report.SummaryCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Errorf("summary.csv: %d rows, %v", len(rows), err)
	}
	html, err := os.ReadFile(filepath.Join(dir, report.ReportHTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("<html")) || !bytes.Contains(html, []byte("SIMULATED")) || bytes.Contains(html, []byte("<script src=")) {
		t.Errorf("report.html is not a self-contained SIMULATED page (%d bytes)", len(html))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestStartupFailureRecorded makes the first config fail to start with
// the k_shape AttributeError and checks that it is recorded and the next
// config still runs.
//
// The profile check refuses is_block_kv_layout without prefix caching
// (exit 2, nothing started), so the failure is brought about the way it
// happens on a real host: stale compiled artifacts with that layout in the
// config's NEURON_COMPILED_ARTIFACTS directory, which vllm-neuron loads in
// place of the override.
func TestStartupFailureRecorded(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "kshape", `configs:
  - name: stale
    enable_prefix_caching: false
    pa_num_blocks: 2
  - name: fresh
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - arrival: sync
  - arrival: poisson
    rate: 20
    queries: 2
`)
	o, _ := simOptions(t, p)
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	servertest.WriteStaleArtifacts(t, plan.Configs[0].ArtifactsDir, true)
	out := runSweep(t, o)

	if out.Failed != 1 || out.Passed != 1 || out.Interrupted {
		t.Errorf("outcome %+v, want 1 failed and 1 passed", *out)
	}
	m := readManifest(t, o.Out)
	if m.Status != schema.SweepFailed {
		t.Errorf("manifest status %q, want %q", m.Status, schema.SweepFailed)
	}
	cs := wantStatuses(t, m, "stale", schema.StatusFailed, map[string]string{"sync": schema.StatusSkipped, "poisson-20": schema.StatusSkipped})
	if cs.FailureClass != string(schema.FailureKShape) || !strings.Contains(cs.Reason, "k_shape") {
		t.Errorf("stale: failure %q: %q; want k_shape and a reason naming it", cs.FailureClass, cs.Reason)
	}
	st := servertest.ReadStartup(t, o.Out, "stale")
	if !st.Simulated {
		t.Error("stale/startup.json of a simulated sweep does not say simulated")
	}
	if st.FailureClass != schema.FailureKShape || st.Reason != cs.Reason || st.Ready || st.ExitCode == nil || *st.ExitCode != 1 {
		t.Errorf("stale/startup.json: class %q reason %q ready %v exit %v; want k_shape, the manifest's reason, not ready, exit 1",
			st.FailureClass, st.Reason, st.Ready, st.ExitCode)
	}
	// The load of the stale artifacts fails before the plugin says it
	// ignores the overrides; NxDI's reload of their neuron_config.json is
	// what shows the reuse (a note, not a voiding warning).
	if !hasFinding(st, schema.NoteNeuronConfig, "Unexpected keyword arguments: {'enable_long_context_mode'") {
		t.Errorf("stale/startup.json does not record the reuse of the stale artifacts: %+v", st.Findings)
	}
	for _, phase := range []string{"sync", "poisson-20"} {
		if _, err := os.Stat(filepath.Join(o.Out, schema.PhaseFile("stale", phase))); !os.IsNotExist(err) {
			t.Errorf("stale: %s.json exists for a phase that did not run (%v)", phase, err)
		}
	}
	wantStatuses(t, m, "fresh", schema.StatusOK, map[string]string{"sync": schema.StatusOK, "poisson-20": schema.StatusOK})
	checkPhaseFiles(t, o.Out, "fresh", "sync", 3)
	// Only a config that became ready records its artifacts as loadgen's.
	v := servertest.ReadStartup(t, o.Out, "fresh").Version
	if !artifactsMatch(plan.Configs[1], v) || artifactsMatch(plan.Configs[0], v) {
		t.Errorf("artifacts records: fresh %v stale %v, want true and false", artifactsMatch(plan.Configs[1], v), artifactsMatch(plan.Configs[0], v))
	}
	servertest.AssertServerGone(t, o.Out, "stale")
	servertest.AssertServerGone(t, o.Out, "fresh")
	var sum report.Summary
	testkit.ReadJSON(t, filepath.Join(o.Out, report.SummaryJSONFile), &sum)
	found := false
	for _, r := range sum.Ranking {
		found = found || (r.Config == "stale" && r.FailureClass == string(schema.FailureKShape))
	}
	if !found {
		t.Errorf("summary.json ranking does not show stale's k_shape failure: %+v", sum.Ranking)
	}
}

func hasFinding(st schema.Startup, class schema.FailureClass, line string) bool {
	for _, f := range st.Findings {
		if f.Class == class && strings.Contains(f.Line, line) {
			return true
		}
	}
	return false
}

// TestCrashMidRun kills the first config's engine in its second phase
// (LOADGEN_SIM_CRASH_AFTER through the config's env) and checks that the
// phase is failed with partial results, the later phase skipped, the config
// failed as crashed_mid_run, and the next config still run.
func TestCrashMidRun(t *testing.T) {
	t.Parallel()
	// sync sends 3 queries × 2 requests; the 17th request (the sixth
	// query of the poisson phase) kills the engine while that phase has
	// more than a second of arrivals still to send (the config after it
	// sends them all).
	p := writeProfile(t, "crash", `configs:
  - name: crashy
    enable_prefix_caching: false
    pa_num_blocks: 2
    env:
      LOADGEN_SIM_CRASH_AFTER: "16"
  - name: after
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - arrival: sync
  - arrival: poisson
    rate: 100
    queries: 150
    seed: 1
  - arrival: constant
    rate: 50
    queries: 2
`)
	o, _ := simOptions(t, p)
	out := runSweep(t, o)
	if out.Failed < 1 || out.Interrupted {
		t.Errorf("outcome %+v, want crashy failed", *out)
	}
	m := readManifest(t, o.Out)
	cs := wantStatuses(t, m, "crashy", schema.StatusFailed, map[string]string{
		"sync": schema.StatusOK, "poisson-100": schema.StatusFailed, "constant-50": schema.StatusSkipped})
	// The simulator's engine logs vLLM's "EngineCore encountered a fatal
	// error.": the reason names that cause, not "no cause loadgen knows".
	if cs.FailureClass != string(schema.FailureCrashed) || !strings.Contains(cs.Reason, "died after it was ready") ||
		!strings.Contains(cs.Reason, string(schema.FailureEngineCore)) || strings.Contains(cs.Reason, "no cause loadgen knows") {
		t.Errorf("crashy: failure %q: %q; want crashed_mid_run naming the engine's death", cs.FailureClass, cs.Reason)
	}
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("crashy", "poisson-100")), &res)
	if res.EndReason != schema.EndServerExited || res.QueriesCompleted >= 150 || res.QueriesCompleted < 1 {
		t.Errorf("crashy/poisson-100.json: end %q after %d queries; want server_exited with the queries done before the crash",
			res.EndReason, res.QueriesCompleted)
	}
	st := servertest.ReadStartup(t, o.Out, "crashy")
	if st.FailureClass != schema.FailureCrashed || !st.Ready || st.ExitCode == nil || *st.ExitCode == 0 {
		t.Errorf("crashy/startup.json: class %q ready %v exit %v; want crashed_mid_run after ready with a non-zero exit", st.FailureClass, st.Ready, st.ExitCode)
	}
	wantStatuses(t, m, "after", schema.StatusOK, map[string]string{"sync": schema.StatusOK, "constant-50": schema.StatusOK})
	servertest.AssertServerGone(t, o.Out, "crashy")
	servertest.AssertServerGone(t, o.Out, "after")
}

// TestPortTaken runs a sweep whose port another process holds: the
// pre-flight check refuses to launch, every config is recorded as failed
// with address_in_use and the holder named, and nothing is started.
func TestPortTaken(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "porttaken", twoConfigs+`load:
  - arrival: sync
`)
	o, _ := simOptions(t, p)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(o.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out := runSweep(t, o)
	if out.Failed != 2 || out.Passed != 0 {
		t.Errorf("outcome %+v, want both configs failed", *out)
	}
	m := readManifest(t, o.Out)
	for _, c := range []string{"a", "b"} {
		cs := wantStatuses(t, m, c, schema.StatusFailed, map[string]string{"sync": schema.StatusSkipped})
		if cs.FailureClass != string(schema.FailureAddressInUse) || !strings.Contains(cs.Reason, "port "+strconv.Itoa(o.Port)) {
			t.Errorf("config %s: %q %q, want address_in_use naming the port", c, cs.FailureClass, cs.Reason)
		}
		st := servertest.ReadStartup(t, o.Out, c)
		if st.PID != 0 || st.FailureClass != schema.FailureAddressInUse || st.Reason != cs.Reason {
			t.Errorf("%s/startup.json: pid %d class %q reason %q; want nothing launched and the manifest's failure", c, st.PID, st.FailureClass, st.Reason)
		}
		if _, err := os.Stat(filepath.Join(o.Out, c, server.LogFile)); !os.IsNotExist(err) {
			t.Errorf("%s: a server log exists though nothing was launched (%v)", c, err)
		}
	}
}
