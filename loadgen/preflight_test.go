package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"loadgen/loadgen/engine"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server/servertest"
)

// TestDatasetReadOnce runs a sweep of two configs × two phases whose
// dataset is a FIFO that yields the dataset once: as the first reader
// reaches its end, the path already holds a file that is no dataset. So
// pre-flight reads the dataset, and the sweep passes only if it builds
// every configuration's prompts from what pre-flight read.
func TestDatasetReadOnce(t *testing.T) {
	t.Parallel()
	path := servertest.WriteProfile(t, "once", twoConfigs+resumeLoad)
	fifo := filepath.Join(filepath.Dir(path), "q.csv")
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	readOnce(t, fifo, servertest.TinyCSV)
	p, err := profiles.Load(path) // a stat, no read
	if err != nil {
		t.Fatal(err)
	}
	o, progress := simOptions(t, p)
	out := runSweep(t, o)
	if out.Passed != 2 || out.Failed != 0 {
		t.Errorf("outcome %+v, want both configs passed (the dataset was opened again?)", *out)
	}
	for _, c := range []string{"a", "b"} {
		checkPhaseFiles(t, o.Out, c, "sync", 3) // one pass over the 3 queries read
		wantStatuses(t, readManifest(t, o.Out), c, schema.StatusOK, map[string]string{"sync": schema.StatusOK, "poisson-20": schema.StatusOK})
	}
	if s := progress.String(); strings.Contains(s, "opened a second time") {
		t.Errorf("the dataset was opened a second time:\n%s", s)
	}
}

// readOnce serves text through the FIFO at path to its first reader and,
// before that reader can see the end, puts a file in the FIFO's place that
// holds no dataset: any later open reads that. At cleanup a writer still
// waiting for its reader is released and waited for.
func readOnce(t *testing.T, path, text string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // waits for the reader
		if err != nil {
			t.Errorf("FIFO: %v", err)
			return
		}
		defer f.Close() // the reader's end of the dataset
		if _, err := f.WriteString(text); err != nil {
			t.Errorf("FIFO: %v", err)
		}
		poison := path + ".second"
		if err := os.WriteFile(poison, []byte("opened a second time\n"), 0o600); err != nil {
			t.Errorf("FIFO: %v", err)
		}
		if err := os.Rename(poison, path); err != nil {
			t.Errorf("FIFO: %v", err)
		}
	}()
	t.Cleanup(func() {
		// Opening for reading and writing never waits: it releases a
		// writer no reader came for (and opens the plain file otherwise).
		if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
			f.Close()
		}
		<-done
	})
}

// TestResolvedPhasesHoldEngineInvariants: every phase package profiles
// resolves is one the engine runs (its invariants are a subset of the
// profile's rules), one-pass phases with the dataset's count, shares of
// capacity once a capacity is known, and a search as its trials (and its
// probe), each with its saturation stop.
func TestResolvedPhasesHoldEngineInvariants(t *testing.T) {
	t.Parallel()
	var phases []profiles.Phase
	for _, name := range profiles.ShippedNames() {
		p, err := profiles.LoadShipped(name)
		if err != nil {
			t.Fatal(err)
		}
		phases = append(phases, p.Load...)
	}
	// Every arrival, a ramp of each strategy, both ends, a cap on sync.
	p := writeProfile(t, "arrivals", `slo:
  ttft: 1s
load:
  - arrival: sync
    max_concurrency: 1
  - name: sync-1m
    arrival: sync
    duration: 1m
  - arrival: poisson
    rate: 2
    queries: 3
  - arrival: gamma
    rate: 2
    burstiness: 0.25
    duration: 10s
  - arrival: constant
    ramp: {strategy: linear, from: 1, to: 4}
    queries: 8
  - arrival: poisson
    ramp: {strategy: exponential, from: 4, to: 1}
    duration: 5s
  - arrival: gamma
    rate: inf
    max_concurrency: 2
    queries: 4
  - arrival: inf
    max_concurrency: 8
    duration: 5s
    warmup: 2
    request_timeout: 1s
`)
	phases = append(phases, p.Load...)
	p = writeProfile(t, "online", `slo:
  query_latency: 1s
load:
  - {arrival: inf, max_concurrency: 4, queries: 4}
  - {arrival: poisson, rate: 75%, queries: 3}
  - {arrival: gamma, burstiness: 0.5, ramp: {strategy: linear, from: 10%, to: 2}, duration: 5s, saturation_stop: true}
  - {arrival: constant, queries: 3, search: {metric: ttft, max: 1s}}
  - {arrival: poisson, duration: 5s, search: {probe_concurrency: 8, max_failed: 0%}}
`)
	phases = append(phases, p.Load...)
	for _, ph := range phases {
		var runs []engine.Phase
		switch {
		case ph.Search != nil:
			kinds := []bool{false} // a trial; a probe when it has a probe's concurrency
			if ph.Search.ProbeConcurrency > 0 {
				kinds = append(kinds, true)
			}
			for i, probe := range kinds {
				tph, stop := trialPhase(ph, i+1, 1.5, probe)
				lph := enginePhase(tph, 3)
				lph.Saturation = stop
				runs = append(runs, lph)
			}
		default:
			cph, _ := atCapacity(ph, 2.5)
			lph := enginePhase(cph, 3)
			lph.Saturation = phaseStop(ph)
			runs = append(runs, lph)
		}
		for _, lph := range runs {
			if err := lph.Validate(); err != nil {
				t.Errorf("phase %s (%s): %v", ph.Name, ph.Describe(), err)
			}
		}
	}
}

// TestRunNeedsPreflight: Run refuses a sweep that did not pass pre-flight.
func TestRunNeedsPreflight(t *testing.T) {
	t.Parallel()
	for _, c := range []*Checked{nil, {}} {
		if out, err := Run(context.Background(), c); err == nil || out != nil {
			t.Errorf("Run(%v) = %v, %v; want an error", c, out, err)
		}
	}
}
