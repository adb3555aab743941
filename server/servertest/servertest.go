// Package servertest helps tests that launch servers the way loadgen does:
// it makes a test binary act as `loadgen sim serve` (the os/exec
// helper-process pattern), writes test profiles and the simulator's stale
// compiled artifacts, watches a server's /metrics, checks that a server is
// gone, and checks merged latencies against raw request logs. It is for
// tests only; loopback ports and polling are testkit's.
package servertest

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
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
