package loadgen

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/server/servertest"
)

// TestInterruptMidPhase cancels the sweep's context while its second phase
// is sending, checks the partial results and the stopped server, then
// resumes the sweep and checks that only the interrupted phase runs again.
func TestInterruptMidPhase(t *testing.T) {
	t.Parallel()
	p := writeProfile(t, "interrupt", `configs:
  - name: x
    enable_prefix_caching: false
    pa_num_blocks: 2
load:
  - arrival: sync
  - arrival: poisson
    rate: 100
    queries: 150
    seed: 1
`)
	o, _ := simOptions(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		out *Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := preflightRun(ctx, o)
		done <- result{out, err}
	}()
	// Once the manifest says the poisson phase runs, wait until the
	// simulator has finished more requests than before: the phase is
	// sending.
	testkit.WaitFor(t, time.Minute, "the poisson phase to start", func() bool {
		m, err := schema.ReadManifest(o.Out)
		return err == nil && m.Config("x").Phase("poisson-100").Status == schema.StatusRunning
	})
	before := int(servertest.SimMetric(o.Port, "vllm:request_success_total"))
	testkit.WaitFor(t, time.Minute, "the poisson phase to send", func() bool { return int(servertest.SimMetric(o.Port, "vllm:request_success_total")) >= before+8 })
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the sweep did not return within a minute of the interrupt")
	}
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if !r.out.Interrupted || r.out.Passed != 0 || r.out.Failed != 0 {
		t.Errorf("outcome %+v, want interrupted with nothing passed or failed", *r.out)
	}
	m := readManifest(t, o.Out)
	if m.Status != schema.SweepInterrupted {
		t.Errorf("manifest status %q, want interrupted", m.Status)
	}
	wantStatuses(t, m, "x", schema.StatusInterrupted, map[string]string{"sync": schema.StatusOK, "poisson-100": schema.StatusInterrupted})
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(o.Out, schema.PhaseFile("x", "poisson-100")), &res)
	if res.EndReason != schema.EndInterrupted || res.QueriesCompleted == 0 || res.QueriesCompleted >= 150 || !res.Simulated {
		t.Errorf("partial poisson-100.json: end %q, %d queries, simulated %v; want interrupted with some of the 150", res.EndReason, res.QueriesCompleted, res.Simulated)
	}
	if _, err := schema.ReadHlogFile(filepath.Join(o.Out, schema.HlogFile("x", "poisson-100"))); err != nil {
		t.Errorf("partial hlog: %v", err)
	}
	st := servertest.ReadStartup(t, o.Out, "x")
	if st.ExitCode == nil || st.FailureClass != "" {
		t.Errorf("startup.json after the interrupt: exit code %v, class %q; want the server's exit recorded and no failure", st.ExitCode, st.FailureClass)
	}
	servertest.AssertServerGone(t, o.Out, "x")
	checkReportFiles(t, o.Out)

	// Resume: the sync phase's files stay, the poisson phase runs again.
	syncFiles := snapshotDir(t, filepath.Join(o.Out, "x"))
	for path := range syncFiles {
		if !strings.HasPrefix(filepath.Base(path), "sync.") {
			delete(syncFiles, path)
		}
	}
	r2, _ := simOptions(t, p)
	r2.Out, r2.Resume, r2.Sim.ArtifactsRoot = o.Out, true, o.Sim.ArtifactsRoot
	out := runSweep(t, r2)
	if out.Passed != 1 || out.Interrupted {
		t.Errorf("resumed outcome %+v, want 1 passed", *out)
	}
	m = readManifest(t, o.Out)
	wantStatuses(t, m, "x", schema.StatusOK, map[string]string{"sync": schema.StatusOK, "poisson-100": schema.StatusOK})
	if m.Status != schema.SweepCompleted {
		t.Errorf("manifest status %q after the resume, want completed", m.Status)
	}
	checkPhaseFiles(t, o.Out, "x", "poisson-100", 150)
	assertUntouched(t, syncFiles)
	if st := servertest.ReadStartup(t, o.Out, "x"); st.CompiledArtifacts != "hit" {
		t.Errorf("the resumed server's compiled artifacts: %q, want a cache hit of the first start's", st.CompiledArtifacts)
	}
	servertest.AssertServerGone(t, o.Out, "x")
}
