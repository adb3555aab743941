package server

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"loadgen/loadgen/testkit"
)

// ports are this package's test ports, apart from those of the other
// packages that launch servers, whose tests may run at the same time.
var ports = testkit.NewPorts(20000, 26000)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeVLLM(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeConfig returns a Config that runs the test binary as a fake vllm in
// the given mode, on a free loopback port, logging into a temp dir.
func fakeConfig(t *testing.T, mode string, env ...string) Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port := ports.Free(t)
	return Config{
		Name: "fake-" + mode,
		Argv: []string{exe, "serve", "/models/Qwen3-Reranker-0.6B", "--served-model-name", "qwen3-reranker",
			"--host", "127.0.0.1", "--port", strconv.Itoa(port),
			// The profile wrote the typo of cachedStart's warning.
			"--additional-config", `{"override_neuron_config":{"enable_buckting":true}}`},
		// Under -race a Go program sleeps 1 s at exit unless told not to;
		// the fake must exit within short grace periods.
		Env:          append([]string{fakeEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}, env...),
		Host:         "127.0.0.1",
		Port:         port,
		ServedModel:  "qwen3-reranker",
		Dir:          t.TempDir(),
		ReadyTimeout: time.Minute,
		StopGrace:    10 * time.Second,
	}
}

// startFake starts cfg with an owner of its own and makes sure, whatever
// the test does, that the group is killed and waited for at the end.
func startFake(t *testing.T, cfg Config) *Process {
	t.Helper()
	return startOwned(t, new(Owner), cfg)
}

// startOwned is startFake with the owner given.
func startOwned(t *testing.T, o *Owner, cfg Config) *Process {
	t.Helper()
	p, err := o.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		_ = p.Stop(context.Background())
		assertGroupGone(t, p)
	})
	return p
}

// assertGroupGone fails the test if any live process of p's group
// remains; the leader itself must be gone (reaped) too.
func assertGroupGone(t *testing.T, p *Process) {
	t.Helper()
	if GroupAlive(p.PID()) {
		t.Errorf("process group %d still has live processes", p.PID())
	}
	if err := syscall.Kill(p.PID(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v, want ESRCH", p.PID(), err)
	}
}

// waitDead waits (bounded) until pid has exited: kill(pid, 0) says ESRCH,
// or it is a zombie that its new parent (init) has not reaped yet.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if state, _, ok := procStat(pid); ok && state == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still alive (kill(pid, 0) = %v)", pid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitClosed waits (bounded) for ch to be closed.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// contains fails the test unless s contains every one of subs.
func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q\nwant it to contain %q", what, s, sub)
		}
	}
}
