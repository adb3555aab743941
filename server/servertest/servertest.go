// Package servertest helps tests that launch servers the way loadgen does:
// it makes a test binary act as `loadgen sim serve` (the os/exec
// helper-process pattern), hands out loopback ports that no other test of
// the process gets, and polls for conditions without sleeping and hoping.
// It is for tests only.
package servertest

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"loadgen/server/sim"
)

// TinyCSV is a dataset of 3 queries × 4 documents in the offline CSV shape.
const TinyCSV = `query,answer_0,answer_1,answer_2,answer_3
What is a deductible?,The amount you pay before insurance pays.,A premium is the monthly cost.,Coverage limits cap payouts.,A deductible resets every policy year.
How do claims work?,You file a claim with your insurer.,Claims need documentation.,An adjuster reviews the claim.,Payment follows approval.
What is term life?,Term life covers a fixed period.,Whole life builds cash value.,Premiums are level for term policies.,Term policies can lapse.
`

// SimServe runs `sim serve …` (args without the program name) as the
// loadgen binary does: SIGTERM and SIGINT end it gracefully, and its error
// carries the exit status. A TestMain calls it when the test binary was
// started as a helper process.
func SimServe(args []string) int {
	if len(args) < 2 || args[0] != "sim" || args[1] != "serve" {
		os.Stderr.WriteString("servertest: want `sim serve …`, got " + strings.Join(args, " ") + "\n")
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

// Ports hands out loopback ports from [low, high): below the kernel's
// ephemeral range, so that no outgoing connection takes one between a
// pre-flight check and a server binding it. Give test packages that may run
// at the same time disjoint ranges. The starting point is random per
// process, so that back-to-back runs do not reuse ports whose connections
// linger in TIME_WAIT.
type Ports struct {
	low, high int
	next      atomic.Int32
}

// NewPorts returns the ports of [low, high).
func NewPorts(low, high int) *Ports {
	p := &Ports{low: low, high: high}
	p.next.Store(int32(low + rand.IntN((high-low)/10)*10))
	return p
}

// Free returns a port no other caller of p gets and that is free now.
func (p *Ports) Free(t testing.TB) int {
	t.Helper()
	for range 1000 {
		port := int(p.next.Add(1))
		if port >= p.high {
			p.next.Store(int32(p.low))
			continue
		}
		if bindExclusive(port) == nil {
			return port
		}
	}
	t.Fatalf("servertest: no free port in [%d, %d)", p.low, p.high)
	return 0
}

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

// WaitFor polls cond every 10 ms until it holds, failing the test after
// limit. The limit is a safety net, never the assertion: the conditions
// waited for hold within seconds.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// profileHead is the common part of test profiles: a small model setup, no
// neuron_cores (parallel tests must not contend for the simulator's core
// locks), the tiny dataset with batch size 2.
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

// WriteProfile writes TinyCSV (as q.csv) and a profile named name — the
// common head followed by rest (configs, load, …) — into a new directory,
// and returns the profile's path.
func WriteProfile(t testing.TB, name, rest string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "q.csv"), []byte(TinyCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(profileHead, "NAME", name, 1)+rest), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pollClient opens a connection per request and closes it after: a
// keep-alive connection to the simulator would hold up its graceful
// shutdown (Go's http.Server waits for idle connections).
var pollClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// SimMetric sums the samples of a metric on the /metrics of the server on
// 127.0.0.1:port, or returns -1 while it does not answer. Tests poll it to
// see a phase progress (vllm:request_success_total) without sleeping.
func SimMetric(port int, name string) float64 {
	resp, err := pollClient.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}
