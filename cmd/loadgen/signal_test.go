package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/server"
	"loadgen/server/servertest"
)

// phaseRunning reports whether the manifest in dir says the phase of the
// config is running.
func phaseRunning(dir, config, phase string) bool {
	m, err := schema.ReadManifest(dir)
	if err != nil {
		return false
	}
	c := m.Config(config)
	return c != nil && c.Phase(phase) != nil && c.Phase(phase).Status == schema.StatusRunning
}

// TestSweepSIGINT interrupts a simulated sweep once, mid-phase: loadgen
// drains, writes the partial result and the report, stops the server and
// exits 130.
func TestSweepSIGINT(t *testing.T) {
	t.Parallel()
	profile := servertest.WriteProfile(t, "sigint", `configs:
  - name: x
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - arrival: sync
  - arrival: poisson
    rate: 100
    queries: 1000
    seed: 1
`)
	out := filepath.Join(t.TempDir(), "out")
	port := ports.Free(t)
	c := startChild(t, append([]string{"sweep", profile, "--out", out, "--port", strconv.Itoa(port), "--drain", "5s"}, simArgs...)...)
	testkit.WaitFor(t, time.Minute, "the poisson phase to start", func() bool { return phaseRunning(out, "x", "poisson-100") })
	before := servertest.SimMetric(port, "vllm:request_success_total")
	testkit.WaitFor(t, time.Minute, "the poisson phase to send", func() bool { return servertest.SimMetric(port, "vllm:request_success_total") >= before+8 })
	pid := servertest.ReadStartup(t, out, "x").PID

	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, time.Minute)
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130", r.code)
	}
	if !strings.Contains(r.stderr, "interrupt: stopping gracefully") {
		t.Errorf("stderr does not acknowledge the signal:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "sweep interrupted: 0 passed, 0 failed, 1 interrupted, 0 not run") || !strings.Contains(r.stdout, "continue it with: loadgen sweep --resume "+out) {
		t.Errorf("stdout lacks the outcome and the resume hint:\n%s", r.stdout)
	}
	m, err := schema.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	cs := m.Config("x")
	if m.Status != schema.SweepInterrupted || cs.Status != schema.StatusInterrupted ||
		cs.Phase("sync").Status != schema.StatusOK || cs.Phase("poisson-100").Status != schema.StatusInterrupted {
		t.Errorf("manifest: sweep %q, config %q, phases %+v", m.Status, cs.Status, cs.Phases)
	}
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(out, schema.PhaseFile("x", "poisson-100")), &res)
	if res.EndReason != schema.EndInterrupted || res.QueriesCompleted == 0 || res.QueriesCompleted >= 1000 {
		t.Errorf("partial result: end %q, %d queries", res.EndReason, res.QueriesCompleted)
	}
	if _, err := os.Stat(filepath.Join(out, report.SummaryMarkdownFile)); err != nil {
		t.Errorf("no report after the interrupt: %v", err)
	}
	if st := servertest.ReadStartup(t, out, "x"); st.ExitCode == nil {
		t.Error("startup.json does not record the server's exit")
	}
	if server.ProcessAlive(pid) || server.GroupAlive(pid) {
		t.Errorf("the simulator (pid %d) outlived loadgen", pid)
	}
}

// TestSweepSIGINTTwice sends a second SIGINT while loadgen drains requests
// that would take minutes: it kills the server's process group at once and
// exits 130 without waiting for the drain.
func TestSweepSIGINTTwice(t *testing.T) {
	t.Parallel()
	// Every request is slowed 100000×: about a minute each at speed 100.
	profile := servertest.WriteProfile(t, "sigint2", `configs:
  - name: slow
    enable_prefix_caching: false
    pa_num_blocks: 2
    env:
      LOADGEN_SIM_SLOW_RATE: "1"
      LOADGEN_SIM_SLOW_FACTOR: "100000"
load:
  - arrival: poisson
    rate: 100
    queries: 1000
    seed: 1
`)
	out := filepath.Join(t.TempDir(), "out")
	port := ports.Free(t)
	c := startChild(t, append([]string{"sweep", profile, "--out", out, "--port", strconv.Itoa(port), "--drain", "10m"}, simArgs...)...)
	testkit.WaitFor(t, time.Minute, "requests in the engine", func() bool {
		return servertest.SimMetric(port, "vllm:num_requests_running") > 0 && phaseRunning(out, "slow", "poisson-100")
	})
	pid := servertest.ReadStartup(t, out, "slow").PID

	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Signals of one kind do not queue: wait until loadgen has taken the
	// first before sending the second.
	testkit.WaitFor(t, time.Minute, "the first signal to be acknowledged", func() bool {
		return strings.Contains(c.stderr.String(), "stopping gracefully")
	})
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// The drain would take minutes; a minute bounds the test, not the
	// assertion (the kill path exits within milliseconds).
	r := c.wait(t, time.Minute)
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130", r.code)
	}
	if !strings.Contains(r.stderr, "interrupt again: killing the server process group") {
		t.Errorf("stderr does not report the kill:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "sweep interrupted") {
		t.Errorf("the graceful path finished, so the second signal was not what ended loadgen:\n%s", r.stdout)
	}
	// The record on disk does not say "running" for a sweep that is gone,
	// and no lock or temporary file is left behind.
	if !strings.Contains(r.stderr, "loadgen: results: "+out+" (marked interrupted;") || !strings.Contains(r.stderr, "loadgen sweep --resume "+out) {
		t.Errorf("stderr does not say where the results are and how to continue:\n%s", r.stderr)
	}
	m, err := schema.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if cs := m.Config("slow"); m.Status != schema.SweepInterrupted || m.EndedAt.IsZero() || cs.Status != schema.StatusInterrupted ||
		cs.Phase("poisson-100").Status != schema.StatusInterrupted || !strings.Contains(cs.Reason, "killed by a second interrupt") {
		t.Errorf("manifest after the second interrupt: sweep %q (ended %v), config %+v", m.Status, m.EndedAt, cs)
	}
	if _, err := os.Stat(filepath.Join(out, schema.LockFile)); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
	// SIGKILL is delivered asynchronously; the orphaned simulator is gone
	// (or a zombie) within moments.
	testkit.WaitFor(t, 30*time.Second, "the simulator to die", func() bool { return !server.ProcessAlive(pid) && !server.GroupAlive(pid) })
}

// TestSweepResumeWhileRunning: `sweep --resume DIR` while the sweep that
// writes DIR still runs is refused (exit 2) naming that sweep's pid, and
// writes nothing; the running sweep is unaffected.
func TestSweepResumeWhileRunning(t *testing.T) {
	t.Parallel()
	profile := servertest.WriteProfile(t, "busy", `configs:
  - name: slow
    enable_prefix_caching: false
    pa_num_blocks: 2
    env:
      LOADGEN_SIM_SLOW_RATE: "1"
      LOADGEN_SIM_SLOW_FACTOR: "100000"
load:
  - arrival: poisson
    rate: 100
    queries: 1000
    seed: 1
`)
	out := filepath.Join(t.TempDir(), "out")
	c := startChild(t, append([]string{"sweep", profile, "--out", out, "--port", strconv.Itoa(ports.Free(t)), "--drain", "1s"}, simArgs...)...)
	testkit.WaitFor(t, time.Minute, "the phase to run", func() bool { return phaseRunning(out, "slow", "poisson-100") })
	want := "is in use by another loadgen (pid " + strconv.Itoa(c.cmd.Process.Pid) + ")"
	for _, args := range [][]string{
		append([]string{"sweep", "--resume", out, "--port", strconv.Itoa(ports.Free(t))}, simArgs...),
		append([]string{"sweep", profile, "--out", out, "--port", strconv.Itoa(ports.Free(t))}, simArgs...),
		{"report", out},
	} {
		r := runCLI(t, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("loadgen %s: exit %d, want 2 saying %q:\n%s", strings.Join(args[:2], " "), r.code, want, r.stderr)
		}
	}
	if !phaseRunning(out, "slow", "poisson-100") {
		t.Error("a refused command changed the running sweep's record")
	}
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if r := c.wait(t, time.Minute); r.code != exitInterrupted {
		t.Errorf("the running sweep: exit %d, want 130", r.code)
	}
}
