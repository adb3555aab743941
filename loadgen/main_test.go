package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
	"loadgen/server/servertest"
)

// helperEnv makes the test binary behave as `loadgen sim serve`: the sweep
// launches [os.Args[0], "sim", "serve", MODEL, flags…] and the child, which
// inherits this variable, dispatches to sim.Main.
const helperEnv = "LOADGEN_SWEEP_TEST_HELPER"

// ports are this package's test ports, apart from those of the other
// packages that launch servers, whose tests may run at the same time.
var ports = testkit.NewPorts(10000, 15000)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(servertest.SimServe(os.Args[1:]))
	}
	// Children inherit these: they act as the simulator, do not sleep a
	// second at exit under -race (stop grace periods are short), and keep
	// their NeuronCore locks (TMPDIR) away from other test binaries.
	os.Setenv(helperEnv, "1")
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	tmp, err := os.MkdirTemp("", "sweep-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("TMPDIR", tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// writeProfile writes the tiny dataset and a test profile (the common head
// followed by rest) and loads it.
func writeProfile(t *testing.T, name, rest string) *profiles.Profile {
	t.Helper()
	path := servertest.WriteProfile(t, name, rest)
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatalf("load profile: %v", err)
	}
	return p
}

// simOptions returns sweep options that run p against the test binary as
// the simulator, fast, on a free port, with private artifacts and results
// directories.
func simOptions(t *testing.T, p *profiles.Profile) (Options, *testkit.SyncBuffer) {
	t.Helper()
	progress := testkit.NewStampedBuffer()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sweep progress:\n%s", progress)
		}
	})
	return Options{
		Profile:  p,
		Simulate: true,
		Sim: SimOptions{
			Speed:         100,
			StartupSpeed:  100,
			Executable:    os.Args[0],
			ArtifactsRoot: t.TempDir(),
		},
		Out:      filepath.Join(t.TempDir(), "out"),
		Port:     ports.Free(t),
		Drain:    2 * time.Second,
		Progress: progress,
		Version:  "test",
	}, progress
}

// runSweep runs the sweep with a generous safety timeout (never the
// assertion: a healthy run takes about a second) and fails the test on an
// error.
func runSweep(t *testing.T, o Options) *Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := preflightRun(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the sweep hit the test's safety timeout")
	}
	return out
}

// preflightRun checks the sweep o describes and runs it, as the CLI does.
func preflightRun(ctx context.Context, o Options) (*Outcome, error) {
	c, err := Preflight(o)
	if err != nil {
		return nil, err
	}
	return Run(ctx, c)
}

func readManifest(t *testing.T, dir string) *schema.Manifest {
	t.Helper()
	m, err := schema.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// wantStatuses checks the status of a config and of each of its phases.
func wantStatuses(t *testing.T, m *schema.Manifest, config, status string, phases map[string]string) *schema.ConfigStatus {
	t.Helper()
	cs := m.Config(config)
	if cs == nil {
		t.Fatalf("manifest has no config %s", config)
	}
	if cs.Status != status {
		t.Errorf("config %s: status %q, want %q (reason %q)", config, cs.Status, status, cs.Reason)
	}
	for name, want := range phases {
		p := cs.Phase(name)
		if p == nil {
			t.Errorf("config %s: manifest has no phase %s", config, name)
			continue
		}
		if p.Status != want {
			t.Errorf("config %s phase %s: status %q, want %q (reason %q)", config, name, p.Status, want, p.Reason)
		}
	}
	return cs
}
