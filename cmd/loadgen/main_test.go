package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// helperEnv makes the test binary behave as the loadgen binary: a child
// started with it runs run(os.Args, …) and exits with its status. Every
// child inherits it, so the simulator that a child's sweep launches (the
// same binary, "sim serve …") is loadgen's too.
const helperEnv = "LOADGEN_CLI_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	// Children inherit these: they act as loadgen, do not sleep a second
	// at exit under -race, and keep the simulator's NeuronCore locks
	// (TMPDIR) and compiled-artifacts markers (XDG_CACHE_HOME) away from
	// other test binaries and the user's cache.
	os.Setenv(helperEnv, "1")
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

// cliResult is how a loadgen command ended.
type cliResult struct {
	code           int
	stdout, stderr string
}

// inProcess serialises runCLI: urfave/cli applies its global help flag
// on every run, which races between parallel apps.
var inProcess sync.Mutex

// runCLI runs loadgen in this process. Only for commands that launch no
// server: run ends with server.KillAll, which would reach the servers of
// parallel tests (those run loadgen as a child, see runChild).
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	inProcess.Lock()
	defer inProcess.Unlock()
	var out, errb bytes.Buffer
	code := run(append([]string{"loadgen"}, args...), &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

// syncBuffer is a goroutine-safe buffer for a child's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is loadgen running as a child process of the test.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when it has exited
	err            error
}

// startChild starts loadgen as a child process. A safety timeout kills it
// after two minutes (a healthy command here takes a few seconds); the test
// waits for it at cleanup in any case.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c := &child{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
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

// waitFor polls cond every 10 ms until it holds, failing the test after
// limit (a safety net: the conditions hold within a few seconds).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Ports between 15000 and 20000: below the kernel's ephemeral range and
// the server package's test ports, apart from loadgen/sweep's (10000–15000)
// whose tests may run at the same time; the base is random per test
// process so that back-to-back runs do not reuse ports lingering in
// TIME_WAIT.
var nextPort atomic.Int32

const portLow, portHigh = 15000, 20000

func init() { nextPort.Store(int32(portLow + rand.IntN((portHigh-portLow)/10)*10)) }

// bindExclusive binds 127.0.0.1:port without SO_REUSEADDR, which fails
// also while connections of an earlier user of the port linger in
// TIME_WAIT: a port that passes is not in the kernel's tables at all.
func bindExclusive(port int) error {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
		})
		return errors.Join(err, serr)
	}}
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	return l.Close()
}

// freePort returns a free loopback port no other test of this process gets.
func freePort(t *testing.T) int {
	t.Helper()
	for range 1000 {
		p := int(nextPort.Add(1))
		if p >= portHigh {
			nextPort.Store(portLow)
			continue
		}
		if bindExclusive(p) == nil {
			return p
		}
	}
	t.Fatalf("no free port in [%d, %d)", portLow, portHigh)
	return 0
}

// tinyCSV is a dataset of 3 queries × 4 documents.
const tinyCSV = `query,answer_0,answer_1,answer_2,answer_3
What is a deductible?,The amount you pay before insurance pays.,A premium is the monthly cost.,Coverage limits cap payouts.,A deductible resets every policy year.
How do claims work?,You file a claim with your insurer.,Claims need documentation.,An adjuster reviews the claim.,Payment follows approval.
What is term life?,Term life covers a fixed period.,Whole life builds cash value.,Premiums are level for term policies.,Term policies can lapse.
`

// profileHead is the common part of the test profiles: no neuron_cores
// (parallel tests must not contend for the simulator's core locks) and
// the tiny dataset, batch size 2.
const profileHead = `name: NAME
model: /models/Qwen3-Reranker-0.6B
served_model_name: qwen3-reranker
server:
  stop_grace: 20s
base:
  max_model_len: 1024
  block_size: 32
  max_num_seqs: 2
workload:
  dataset: q.csv
  search_num: 4
  top_n: 2
  batch_size: 2
  max_length: 512
`

// writeProfile writes the tiny dataset and a profile into a new directory
// and returns the profile's path.
func writeProfile(t *testing.T, name, rest string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "q.csv"), []byte(tinyCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(profileHead, "NAME", name, 1)+rest), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// simArgs are the flags that make a simulated sweep fast.
var simArgs = []string{"--simulate", "--sim-speed", "100", "--sim-startup-speed", "100"}

// alive reports whether pid is a live (not zombie) process. A simulator
// orphaned by a killed loadgen is reparented, and its zombie may wait for
// a reaper; it holds nothing.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	state, _, ok := procStat(pid)
	if !ok {
		return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	return state != 'Z' && state != 'X'
}

// groupHasLive reports whether any live process is in group pgid.
func groupHasLive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, pgrp, ok := procStat(pid); ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// procStat reads the state and process group of pid from /proc.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0][0], pgrp, err == nil
}
