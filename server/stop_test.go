package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

func TestStop_ignoresSIGTERM(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, modeIgnoreTerm)
	cfg.StopGrace = 200 * time.Millisecond
	p := startFake(t, cfg)
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGroupGone(t, p)
	// Only SIGKILL can have ended it.
	st := p.Startup()
	if st.Signal != "killed" {
		t.Errorf("ended by signal %q, want killed (escalation to SIGKILL)", st.Signal)
	}
	if st.FailureClass != schema.FailureNone {
		t.Errorf("failure = %q %q, want none: we stopped it", st.FailureClass, st.Reason)
	}
	if err := checkPort(cfg.Host, cfg.Port); err != nil {
		t.Errorf("port after Stop: %v", err)
	}
}

func TestStop_grandchild(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	cfg := fakeConfig(t, modeGrandchild, fakePIDFile+"="+pidFile)
	// The leader exits on SIGTERM but its child ignores it: Stop must see
	// the group is not empty yet and escalate.
	cfg.StopGrace = 200 * time.Millisecond
	p := startFake(t, cfg)
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	gpid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, pgrp, ok := procStat(gpid); ok && pgrp != p.PID() {
		t.Fatalf("grandchild %d is in group %d, want %d", gpid, pgrp, p.PID())
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGroupGone(t, p)
	waitDead(t, gpid)
	if st := p.Startup(); st.Signal != "" || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("leader ended with signal %q, exit %v; want a clean exit 0 on SIGTERM", st.Signal, st.ExitCode)
	}
}

func TestStop_idempotent(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeReady))
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = p.Stop(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Stop #%d: %v", i, err)
		}
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop after Stop: %v", err)
	}
	p.Kill() // after the group is gone: a no-op
	assertGroupGone(t, p)
	if st := p.Startup(); st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("exit code = %v, want 0 (clean SIGTERM)", st.ExitCode)
	}
}

func TestStop_cancelledContextSkipsGrace(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, modeIgnoreTerm)
	cfg.StopGrace = time.Hour // only the cancelled context can cut it short
	p := startFake(t, cfg)
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGroupGone(t, p)
	if st := p.Startup(); st.Signal != "killed" {
		t.Errorf("signal = %q, want killed", st.Signal)
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, modeIgnoreTerm)
	cfg.StopGrace = time.Hour
	p := startFake(t, cfg)
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	p.Kill()
	p.Kill()
	waitClosed(t, p.Exited(), "exit after Kill")
	if c, r := p.Failure(); c != schema.FailureNone {
		t.Errorf("Failure() = %q %q, want none: loadgen killed it", c, r)
	}
	// Stop after Kill returns at once: nothing is left to signal.
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}

// TestKillAll kills every server of one owner at once; it reaches only
// that owner's servers, so it runs in parallel with other tests.
func TestKillAll(t *testing.T) {
	t.Parallel()
	var o Owner
	a := startOwned(t, &o, fakeConfig(t, modeIgnoreTerm))
	b := startOwned(t, &o, fakeConfig(t, modeNever))
	if err := a.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if n := o.size(); n != 2 {
		t.Fatalf("the owner holds %d servers, want 2", n)
	}
	dogs := []int{a.wd.pid(), b.wd.pid()}
	o.KillAll()
	// KillAll disposes of the watchdogs before it returns: killed and reaped.
	for _, pid := range dogs {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("watchdog %d after KillAll: kill(pid, 0) = %v, want ESRCH", pid, err)
		}
	}
	waitClosed(t, a.Exited(), "a's exit")
	waitClosed(t, b.Exited(), "b's exit")
	for _, p := range []*Process{a, b} {
		if err := p.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		assertGroupGone(t, p)
		if st := p.Startup(); st.Signal != "killed" {
			t.Errorf("%s ended with signal %q, want killed (SIGKILL from KillAll)", p.cfg.Name, st.Signal)
		}
		if c, _ := p.Failure(); c != schema.FailureNone {
			t.Errorf("Failure() = %q, want none after KillAll", c)
		}
	}
	if n := o.size(); n != 0 {
		t.Errorf("%d groups still held after Stop", n)
	}
}

// TestKillAll_ownersIndependent runs two owners in one process (two
// sweeps, or two tests): one's KillAll does not touch the other's server.
func TestKillAll_ownersIndependent(t *testing.T) {
	t.Parallel()
	var mine, theirs Owner
	a := startOwned(t, &mine, fakeConfig(t, modeReady))
	b := startOwned(t, &theirs, fakeConfig(t, modeReady))
	for _, p := range []*Process{a, b} {
		if err := p.WaitReady(context.Background(), nil); err != nil {
			t.Fatalf("WaitReady: %v", err)
		}
	}
	mine.KillAll()
	waitClosed(t, a.Exited(), "a's exit")
	if st := a.Startup(); st.Signal != "killed" {
		t.Errorf("a ended with signal %q, want killed", st.Signal)
	}
	// b still serves, and when it is stopped it exits cleanly on SIGTERM:
	// had KillAll reached its group, it would have died of SIGKILL.
	resp, err := http.Get(b.BaseURL() + "/version")
	if err != nil {
		t.Fatalf("the other owner's server after KillAll: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the other owner's server answers %d after KillAll, want 200", resp.StatusCode)
	}
	if n := theirs.size(); n != 1 {
		t.Errorf("the other owner holds %d servers, want 1", n)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st := b.Startup(); st.Signal != "" || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("b ended with signal %q, exit %v; want a clean exit 0 on SIGTERM", st.Signal, st.ExitCode)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if m, n := mine.size(), theirs.size(); m != 0 || n != 0 {
		t.Errorf("the owners still hold %d and %d servers after Stop, want none", m, n)
	}
}
