package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"loadgen/loadgen/testkit"
	"loadgen/server"
)

// helperEnv makes the test binary behave as the loadgen binary: a child
// started with it runs run(os.Args, …) and exits with its status. Every
// child inherits it, so the simulator that a child's sweep launches (the
// same binary, "sim serve …") is loadgen's too.
const helperEnv = "LOADGEN_CLI_TEST_HELPER"

// ports are this package's test ports, apart from those of the other
// packages that launch servers, whose tests may run at the same time.
var ports = testkit.NewPorts(15000, 20000)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	// Children inherit these: they act as loadgen, do not sleep a second
	// at exit under -race, and keep the simulator's NeuronCore locks
	// (TMPDIR) and compiled-artifacts markers (XDG_CACHE_HOME) away from
	// other test binaries and the user's cache.
	os.Setenv(helperEnv, "1")
	// Flags read the environment: the user's settings must not reach the
	// tests.
	for _, name := range flagEnvVars() {
		os.Unsetenv(name)
	}
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	tmp, err := os.MkdirTemp("", "loadgen-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("TMPDIR", tmp)
	os.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// flagEnvVars lists every environment variable a flag of loadgen reads.
func flagEnvVars() []string {
	names := append([]string{}, apiKeyEnv...)
	for _, c := range newApp(io.Discard, io.Discard, new(server.Owner), nil).Commands {
		for _, f := range c.Flags {
			if ef, ok := f.(interface{ GetEnvVars() []string }); ok {
				names = append(names, ef.GetEnvVars()...)
			}
		}
	}
	return names
}

// cliResult is how a loadgen command ended.
type cliResult struct {
	code           int
	stdout, stderr string
}

// inProcess serialises runCLI: urfave/cli applies its global help flag
// on every run, which races between parallel apps.
var inProcess sync.Mutex

// runCLI runs loadgen in this process. It may launch servers: each run
// owns its own (server.Owner), so the cleanup at its end never reaches the
// servers of parallel tests. Signals are tested with a child (runChild).
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	inProcess.Lock()
	defer inProcess.Unlock()
	var out, errb bytes.Buffer
	code := run(append([]string{"loadgen"}, args...), &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

// child is loadgen running as a child process of the test.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr *testkit.SyncBuffer
	done           chan struct{} // closed when it has exited
	err            error
}

// startChild starts loadgen as a child process. A safety timeout kills it
// after two minutes (a healthy command here takes a few seconds); the test
// waits for it at cleanup in any case.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c := &child{stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, os.Args[0], args...)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	c.cmd.WaitDelay = 10 * time.Second
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		cancel()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("loadgen %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), c.stdout, c.stderr)
		}
	})
	return c
}

// wait waits for the child to exit (at most limit, as a safety net) and
// returns how it ended.
func (c *child) wait(t *testing.T, limit time.Duration) cliResult {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(limit):
		t.Fatalf("loadgen did not exit within %v", limit)
	}
	code := c.cmd.ProcessState.ExitCode()
	if code < 0 {
		t.Fatalf("loadgen ended by %v", c.err)
	}
	return cliResult{code, c.stdout.String(), c.stderr.String()}
}

// runChild runs loadgen as a child process to completion.
func runChild(t *testing.T, args ...string) cliResult {
	t.Helper()
	return startChild(t, args...).wait(t, 2*time.Minute)
}

// simArgs are the flags that make a simulated sweep fast.
var simArgs = []string{"--simulate", "--sim-speed", "100", "--sim-startup-speed", "100"}
