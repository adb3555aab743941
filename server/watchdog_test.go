package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

// watchdogPID returns the pid of p's watchdog, failing the test if p has
// none.
func watchdogPID(t *testing.T, p *Process) int {
	t.Helper()
	if p.wd == nil {
		t.Fatalf("server %d has no watchdog (%v)", p.PID(), p.noWatchdog)
	}
	return p.wd.pid()
}

// assertReaped fails the test unless pid is gone for good: kill(pid, 0)
// says ESRCH (not even a zombie is left).
func assertReaped(t *testing.T, what string, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("%s %d: kill(pid, 0) = %v, want ESRCH", what, pid, err)
	}
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// TestWatchdog_loadgenDies runs a fake loadgen that starts a server with a
// grandchild that ignores SIGTERM (as vLLM's EngineCore is a process of
// its own) and dies without any cleanup. Pdeathsig kills only the server's
// main process; the grandchild must die too, by the watchdog.
func TestWatchdog_loadgenDies(t *testing.T) {
	t.Parallel()
	if _, _, ok := procStat(os.Getpid()); !ok || !watchdogs {
		t.Skip("the watchdog is Linux-only")
	}
	for _, tc := range []struct {
		name  string
		death string
		noSh  bool
		// grandchildLives is the control: without a watchdog, only
		// Pdeathsig fires and the grandchild survives. The other rows
		// differ only by the watchdog, so it is what kills the grandchild.
		grandchildLives bool
		// out is what the fake loadgen's death leaves in its output.
		out string
	}{
		// A panic in an engine worker, the collector or a log copier runs
		// no deferred KillAll: Go exits at once with status 2.
		{name: "panic in a goroutine", death: deathPanic, out: "panic: fake loadgen: panic in a goroutine"},
		// SIGKILL or the OOM killer runs no Go code at all.
		{name: "SIGKILL", death: deathKilled, out: "signal: killed"},
		// os.Exit runs no deferred functions.
		{name: "os.Exit without Stop", death: deathExit, out: ""},
		// Control, and the fallback without /bin/sh: Pdeathsig still
		// kills the server's main process, but nothing else.
		{name: "no shell: Pdeathsig only", death: deathExit, noSh: true, grandchildLives: true, out: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := []string{fakeEnv + "=" + modeLauncher, fakeDeath + "=" + tc.death,
				fakePIDFile + "=" + filepath.Join(t.TempDir(), "grandchild.pid"), "GORACE=atexit_sleep_ms=0"}
			if tc.noSh {
				env = append(env, fakeShell+"="+filepath.Join(t.TempDir(), "no-sh"))
			}
			server, grandchild, dog, out := runLauncher(t, tc.death, env)
			t.Cleanup(func() { killStray(t, server, grandchild) })
			if tc.out != "" && !strings.Contains(out, tc.out) {
				t.Errorf("fake loadgen output = %q, want it to contain %q", out, tc.out)
			}
			waitDead(t, server)
			if tc.grandchildLives {
				if dog != 0 {
					t.Errorf("watchdog pid %d without a shell, want none", dog)
				}
				if !alive(grandchild) {
					t.Errorf("grandchild %d died without a watchdog; the control shows nothing", grandchild)
				}
				return
			}
			waitDead(t, grandchild)
			waitDead(t, dog) // it fired and exited
		})
	}
}

// runLauncher runs the fake loadgen with env, reads the pids it prints,
// kills it when death says so, and waits for it. It returns the pids of
// the server, its grandchild and its watchdog (0 for none) and what the
// fake loadgen printed.
func runLauncher(t *testing.T, death string, env []string) (server, grandchild, dog int, out string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	launcher := exec.Command(exe, "--port", strconv.Itoa(ports.Free(t)))
	launcher.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	launcher.Stderr = &stderr
	launcher.WaitDelay = 10 * time.Second
	stdout, err := launcher.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	// A fake loadgen that hangs is killed, which fails the test below.
	guard := time.AfterFunc(2*time.Minute, func() { _ = launcher.Process.Kill() })
	defer guard.Stop()
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "pids ") {
			break
		}
	}
	if _, err := fmt.Sscanf(lines[len(lines)-1], "pids %d %d %d", &server, &grandchild, &dog); err != nil {
		_ = launcher.Process.Kill()
		_ = launcher.Wait()
		t.Fatalf("fake loadgen printed %q (%v); stderr:\n%s", lines, err, stderr.String())
	}
	if death == deathKilled {
		_ = launcher.Process.Kill()
	}
	werr := launcher.Wait()
	if werr != nil {
		out = werr.Error() + "\n"
	}
	return server, grandchild, dog, out + stderr.String()
}

// killStray SIGKILLs whichever of pids is still alive in the process group
// pgid: the control row's grandchild, or anything a failed test left.
func killStray(t *testing.T, pgid int, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		if _, pgrp, ok := procStat(pid); ok && pgrp == pgid && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			waitDead(t, pid)
		}
	}
}

// TestWatchdog_stopDisposes checks that Stop leaves no watchdog behind and
// that the group's SIGTERM does not make it fire: the server exits 0 on
// SIGTERM, where a watchdog's SIGKILL would have killed it.
func TestWatchdog_stopDisposes(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeReady))
	dog := watchdogPID(t, p)
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if _, pgrp, ok := procStat(dog); ok && (pgrp != dog || pgrp == p.PID()) {
		t.Errorf("watchdog %d is in process group %d, want its own", dog, pgrp)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertReaped(t, "watchdog", dog)
	assertGroupGone(t, p)
	if st := p.Startup(); st.Signal != "" || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("server ended with signal %q, exit %v; want a clean exit 0 on SIGTERM", st.Signal, st.ExitCode)
	}
}

// TestWatchdog_groupHeldUntilStop checks the PID-reuse guarantee: after
// the server exits on its own, loadgen keeps it a zombie, so that its
// group id cannot be handed out again while the watchdog is armed; Stop
// disposes of the watchdog first and only then reaps the server.
func TestWatchdog_groupHeldUntilStop(t *testing.T) {
	t.Parallel()
	if !watchdogs {
		t.Skip("the watchdog is Linux-only")
	}
	p := startFake(t, fakeConfig(t, modeExitPlain))
	dog := watchdogPID(t, p)
	waitClosed(t, p.Exited(), "the server's exit")
	if state, _, ok := procStat(p.PID()); !ok || state != 'Z' {
		t.Errorf("server %d after its exit: state %q (found %t), want an unreaped zombie", p.PID(), state, ok)
	}
	if !alive(dog) {
		t.Errorf("watchdog %d is not running while the server is unreaped", dog)
	}
	// The exit status comes from waitid's siginfo, not from a reap.
	if st := p.Startup(); st.ExitCode == nil || *st.ExitCode != 3 || st.Signal != "" {
		t.Errorf("exit = %v, signal %q; want 3 and none", st.ExitCode, st.Signal)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertReaped(t, "watchdog", dog)
	assertGroupGone(t, p)
}

// TestWatchdog_holdsOnlyItsPipe checks that the watchdog holds nothing
// but the read end of its pipe (stdout and stderr are /dev/null, and what
// every child inherits from whoever ran loadgen), and that
// no process but loadgen and the watchdog holds that pipe: the server did
// not inherit its write end, so loadgen's death alone closes it. Not
// parallel: a process other tests fork holds every descriptor until it
// execs.
func TestWatchdog_holdsOnlyItsPipe(t *testing.T) {
	if _, _, ok := procStat(os.Getpid()); !ok || !watchdogs {
		t.Skip("needs Linux's /proc")
	}
	p := startFake(t, fakeConfig(t, modeReady))
	dog := watchdogPID(t, p)
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	got := fdTargets(t, dog)
	pipe := got[0]
	if !strings.HasPrefix(pipe, "pipe:") {
		t.Fatalf("watchdog's stdin is %q, want a pipe", pipe)
	}
	want := inheritable(t)
	want[0], want[1], want[2] = pipe, os.DevNull, os.DevNull
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("watchdog's descriptors = %v, want %v", got, want)
	}
	var holders []int
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, target := range fdTargets(t, pid) {
			if target == pipe {
				holders = append(holders, pid)
				break
			}
		}
	}
	slices.Sort(holders)
	wantHolders := []int{os.Getpid(), dog}
	slices.Sort(wantHolders)
	if !slices.Equal(holders, wantHolders) {
		t.Errorf("processes holding the watchdog pipe = %v, want only loadgen %d and the watchdog %d (server: %d)", holders, os.Getpid(), dog, p.PID())
	}
}

// inheritable maps the descriptors above 2 that this process holds
// without close-on-exec (inherited from whoever ran the tests; every
// child inherits them in turn) to what they point at.
func inheritable(t *testing.T) map[int]string {
	t.Helper()
	m := fdTargets(t, os.Getpid())
	for fd := range m {
		b, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", strconv.Itoa(fd)))
		if fd <= 2 || err != nil { // err: the descriptor ReadDir used, now closed
			delete(m, fd)
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if flags, ok := strings.CutPrefix(l, "flags:"); ok {
				if f, err := strconv.ParseUint(strings.TrimSpace(flags), 8, 64); err != nil || f&syscall.O_CLOEXEC != 0 {
					delete(m, fd)
				}
			}
		}
	}
	return m
}

// fdTargets maps the open descriptors of pid to what they point at; it
// is empty for a process we may not look into.
func fdTargets(t *testing.T, pid int) map[int]string {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	m := make(map[int]string, len(fds))
	for _, fd := range fds {
		n, err := strconv.Atoi(fd.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil {
			m[n] = target
		}
	}
	return m
}

// TestStart_noShell is not parallel: it takes the shell away from every
// Start. Without a watchdog the server runs as before, the run stays
// valid, and Startup.Findings says what is missing.
func TestStart_noShell(t *testing.T) {
	if !watchdogs {
		t.Skip("no watchdog on this system anyway")
	}
	defer func(sh string) { watchdogShell = sh }(watchdogShell)
	watchdogShell = filepath.Join(t.TempDir(), "no-sh")
	p := startFake(t, fakeConfig(t, modeReady))
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v (a missing watchdog is not an error)", err)
	}
	if p.wd != nil {
		t.Errorf("watchdog %d started without a shell", p.wd.pid())
	}
	if c, r := p.Failure(); c != schema.FailureNone {
		t.Errorf("Failure() = %q %q, want none: the run is valid", c, r)
	}
	st := p.Startup()
	if len(st.Findings) != 1 || st.Findings[0].Class != schema.WarningNoWatchdog || st.Findings[0].Fatal {
		t.Fatalf("findings = %+v, want one non-fatal %q", st.Findings, schema.WarningNoWatchdog)
	}
	contains(t, "finding", st.Findings[0].Message+" | "+st.Findings[0].Line, "no watchdog ("+watchdogShell+" is needed)", "engine processes", "no such file or directory")
	if strings.Contains(st.Findings[0].Message, "\n") {
		t.Errorf("finding message %q is not one line", st.Findings[0].Message)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}
