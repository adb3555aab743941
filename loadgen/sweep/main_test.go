package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"loadgen/loadgen/report"
	"loadgen/profiles"
	"loadgen/server"
	"loadgen/server/sim"
)

// helperEnv makes the test binary behave as `loadgen sim serve`: the sweep
// launches [os.Args[0], "sim", "serve", MODEL, flags…] and the child, which
// inherits this variable, dispatches to sim.Main.
const helperEnv = "LOADGEN_SWEEP_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(simServe(os.Args[1:]))
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

// simServe is `loadgen sim serve` as cmd/loadgen runs it: SIGTERM and
// SIGINT end it gracefully, and its error carries the exit status.
func simServe(args []string) int {
	if len(args) < 2 || args[0] != "sim" || args[1] != "serve" {
		os.Stderr.WriteString("sweep test helper: want `sim serve …`, got " + strings.Join(args, " ") + "\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := sim.Main(ctx, args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return 0
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

// nextPort hands out ports between 10000 and 15000: below the kernel's
// ephemeral range, so that no outgoing connection takes a port between
// the sweep's pre-flight check and the simulator binding it; below the
// server package's test ports; apart from cmd/loadgen's (15000–20000),
// whose tests may run at the same time. The base is random per test
// process, so that back-to-back runs do not reuse ports whose connections
// linger in TIME_WAIT.
var nextPort atomic.Int32

func init() { nextPort.Store(int32(portLow + rand.IntN((portHigh-portLow)/10)*10)) }

const portLow, portHigh = 10000, 15000

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

// profileHead is the common part of the test profiles: a tiny model
// setup, no neuron_cores (parallel tests must not contend for the
// simulator's core locks), the tiny dataset with batch size 2.
const profileHead = `name: %s
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

// writeProfile writes the tiny dataset and a profile (profileHead with
// name, then rest) into a new directory and loads it.
func writeProfile(t *testing.T, name, rest string) *profiles.Profile {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "q.csv"), []byte(tinyCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.yaml")
	text := strings.Replace(profileHead, "%s", name, 1) + rest
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatalf("load profile: %v\n%s", err, text)
	}
	return p
}

// syncBuffer is a goroutine-safe progress sink that stamps every write
// (one progress line) with the time, for the log of a failed test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(time.Now().Format("05.000 "))
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// simOptions returns sweep options that run p against the test binary as
// the simulator, fast, on a free port, with private artifacts and results
// directories.
func simOptions(t *testing.T, p *profiles.Profile) (Options, *syncBuffer) {
	t.Helper()
	progress := &syncBuffer{}
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
		Port:     freePort(t),
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
	out, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the sweep hit the test's safety timeout")
	}
	return out
}

func readManifest(t *testing.T, dir string) *report.Manifest {
	t.Helper()
	m, err := report.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readStartup(t *testing.T, dir, config string) server.Startup {
	t.Helper()
	var st server.Startup
	readJSONFile(t, filepath.Join(dir, report.StartupFile(config)), &st)
	return st
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// wantStatuses checks the status of a config and of each of its phases.
func wantStatuses(t *testing.T, m *report.Manifest, config, status string, phases map[string]string) *report.ConfigStatus {
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

// assertGone checks that the server of config, whose pid (= process group)
// startup.json recorded, has no process left.
func assertGone(t *testing.T, dir, config string) {
	t.Helper()
	st := readStartup(t, dir, config)
	if st.PID <= 0 {
		t.Errorf("config %s: startup.json records no pid", config)
		return
	}
	if alive(st.PID) {
		t.Errorf("config %s: server pid %d is still alive", config, st.PID)
	}
	if err := syscall.Kill(-st.PID, 0); !errors.Is(err, syscall.ESRCH) && groupHasLive(st.PID) {
		t.Errorf("config %s: process group %d still has live members (kill: %v)", config, st.PID, err)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	state, _, ok := procStat(pid)
	if !ok { // reaped just now, or no /proc: trust kill(2) again
		return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	return state != 'Z' && state != 'X'
}

// groupHasLive reports whether any live process is in group pgid.
func groupHasLive(pgid int) bool {
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
