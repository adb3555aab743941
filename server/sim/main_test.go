package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"loadgen/loadgen/testkit"
)

// logBuf collects a process's output and lets a test wait for a line.
// gate, when set, blocks the writer on a line containing it until
// released, freezing Main at that point of its startup.
type logBuf struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
	gate    string
	release chan struct{}
}

func newLogBuf() *logBuf {
	return &logBuf{changed: make(chan struct{}, 1), release: make(chan struct{})}
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	gated := l.gate != "" && strings.Contains(string(p), l.gate)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	if gated {
		<-l.release
	}
	return len(p), nil
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor blocks until the output contains s (the timeout only bounds a
// failing test).
func (l *logBuf) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if out := l.String(); strings.Contains(out, s) {
			return out
		}
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %q in:\n%s", s, l.String())
		}
	}
}

// mainRun is a Main running in a goroutine.
type mainRun struct {
	out, err *logBuf
	cancel   context.CancelFunc
	done     chan error
}

// startMain runs Main with args (the simulator's startup shrunk a
// million-fold) and env set for the test.
func startMain(t *testing.T, env map[string]string, args ...string) *mainRun {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// One buffer for both streams keeps the real interleaving of stdout
	// lines and stderr tracebacks.
	both := newLogBuf()
	m := &mainRun{out: both, err: both, cancel: cancel, done: make(chan error, 1)}
	args = append(args, "--sim-startup-speed", "1e6")
	go func() { m.done <- Main(ctx, args, m.out, m.err) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-m.done:
		case <-time.After(20 * time.Second):
			t.Error("Main did not return after cancel")
		}
	})
	return m
}

func (m *mainRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-m.done:
		m.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("Main did not return; output:\n%s\n%s", m.out, m.err)
		return nil
	}
}

var addrRe = regexp.MustCompile(`Starting vLLM API server 0 on http://(\S+)`)

// baseURL waits for readiness and returns the server's URL.
func (m *mainRun) baseURL(t *testing.T) string {
	t.Helper()
	out := m.out.waitFor(t, "Application startup complete.")
	return "http://" + addrRe.FindStringSubmatch(out)[1]
}

// rerankArgs is the offline configuration as vllm serve argv.
func rerankArgs(port string, override string, extra ...string) []string {
	a := []string{"serve", "/models/Qwen3-Reranker-0.6B", "--served-model-name", "rr", "--host", "127.0.0.1", "--port", port,
		"--tensor-parallel-size", "2", "--max-model-len", "2048", "--max-num-seqs", "4", "--no-enable-prefix-caching",
		"--num-gpu-blocks-override", "4", "--additional-config", `{"override_neuron_config":` + override + `}`}
	return append(a, extra...)
}

// ports are this package's test ports, apart from those of the other
// packages that launch servers, whose tests may run at the same time.
var ports = testkit.NewPorts(26000, 32000)

// inOrder checks that the lines appear in out in this order.
func inOrder(t *testing.T, out string, lines ...string) {
	t.Helper()
	at := 0
	for _, l := range lines {
		i := strings.Index(out[at:], l)
		if i < 0 {
			t.Fatalf("%q missing (or out of order) after offset %d in:\n%s", l, at, out)
		}
		at += i + len(l)
	}
}

func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestMainLifecycle checks a cold start: vllm-neuron's log lines in order,
// connections refused until the server is ready, /version reporting the
// speed factors, and a graceful shutdown on cancel.
func TestMainLifecycle(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	port := strconv.Itoa(ports.Free(t))
	m := &mainRun{}
	m.out = newLogBuf()
	m.out.gate = "Warming up the model."
	t.Setenv("NEURON_COMPILED_ARTIFACTS", filepath.Join(t.TempDir(), "artifacts"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := append(rerankArgs(port, `{"on_device_sampling_config":null,"enable_bucketing":true}`), "--sim-startup-speed", "1e6", "--sim-speed", "50")
	go func() { done <- Main(ctx, args, m.out, io.Discard) }()
	defer cancel()
	m.out.waitFor(t, "Warming up the model.")
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		c.Close()
		t.Fatal("connection accepted before the server was ready")
	}
	close(m.out.release)
	out := m.out.waitFor(t, "Application startup complete.")
	inOrder(t, out,
		"Platform plugin neuron is activated",
		"SIMULATED vllm-neuron server",
		"Retrieved override_neuron_config from additional_config: {'on_device_sampling_config': None, 'enable_bucketing': True}",
		"Unable to find precompiled artifacts",
		"Generating HLOs",
		"Starting compilation for the priority HLO",
		"Finished building model in",
		"Sharding weights on load...",
		"Warming up the model.",
		"Starting vLLM API server 0 on http://127.0.0.1:"+port,
		"Application startup complete.")
	resp, err := http.Get("http://127.0.0.1:" + port + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health after ready: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://127.0.0.1:" + port + "/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"version":"0.11.0","simulated":true,"sim_speed":50,"sim_startup_speed":1000000,"sim_zero_latency":false}`; string(b) != want {
		t.Fatalf("version %s, want %s", b, want)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Main did not shut down")
	}
	inOrder(t, m.out.String(), "Application startup complete.", "Shutting down", "Application shutdown complete.")
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		c.Close()
		t.Fatal("port still accepting after shutdown")
	}
}

// TestMainArtifacts checks the compiled-artifacts cache: a cold start
// compiles and writes the marker, the same configuration then loads it,
// and a different configuration over the same directory is warned about
// and runs as the old one (the plugin ignores override_neuron_config).
func TestMainArtifacts(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir := filepath.Join(t.TempDir(), "cache")
	env := map[string]string{"NEURON_COMPILED_ARTIFACTS": dir}
	cpu := `{"on_device_sampling_config":null,"context_encoding_buckets":[256,2048]}`
	start := func(override string) (*mainRun, string) {
		m := startMain(t, env, rerankArgs("0", override)...)
		return m, m.baseURL(t)
	}
	m, _ := start(cpu)
	if !strings.Contains(m.out.String(), "Unable to find precompiled artifacts from "+dir+". Recompiling...") {
		t.Fatalf("cold start did not compile:\n%s", m.out)
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err != nil {
		t.Fatalf("marker not written: %v", err)
	}
	m.cancel()
	m.wait(t)

	// The plugin warns on every reuse that passes overrides, and NxDI
	// lists the derived attributes of the saved neuron_config.json.
	m, _ = start(cpu)
	out := m.out.String()
	if !strings.Contains(out, "Successfully loaded pre-compiled model artifacts from "+dir) || strings.Contains(out, "Generating HLOs") ||
		!strings.Contains(out, "override_neuron_config will be ignored") ||
		!strings.Contains(out, "WARNING:root:NeuronConfig init: Unexpected keyword arguments: {'enable_long_context_mode': False") {
		t.Fatalf("warm start with the same config:\n%s", out)
	}
	m.cancel()
	m.wait(t)

	// On-device sampling (no override) over artifacts compiled for CPU
	// sampling: the warning, and logprobs still present.
	m, url := start(`{"context_encoding_buckets":[256,2048]}`)
	if !strings.Contains(m.out.String(), "Using pre-compiled artifacts, override_neuron_config will be ignored") {
		t.Fatalf("no warning for a different config:\n%s", m.out)
	}
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"hi","max_tokens":1,"logprobs":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"top_logprobs"`) {
		t.Fatalf("the old (CPU-sampling) config was not kept: %s", b)
	}
}

// TestMainStartupFailures checks the failures vllm-neuron reports at
// startup: exit status and the log lines a watcher greps for.
func TestMainStartupFailures(t *testing.T) {
	rows := []struct {
		name string
		args []string
		env  map[string]string
		// holdCores are locked by the test before the start.
		holdCores []int
		code      int
		// lines must appear in order in stdout+stderr.
		lines []string
	}{
		// is_block_kv_layout without is_prefix_caching: NxDI's k_shape bug.
		{name: "k_shape", args: rerankArgs("0", `{"on_device_sampling_config":null,"is_block_kv_layout":true}`), code: 1,
			lines: []string{"EngineCore failed to start.", "AttributeError: 'BlockKVCacheManager' object has no attribute 'k_shape'",
				"RuntimeError: Engine core initialization failed."}},
		// Prefix caching (vLLM's default) without --block-size.
		{name: "apc_without_block_size", args: []string{"serve", "m", "--port", "0", "--max-model-len", "2048"}, code: 1,
			lines: []string{"AssertionError: When prefix caching is enabled, block_size must be set."}},
		// Too few blocks for max_model_len × max_num_seqs.
		{name: "block_math", args: []string{"serve", "m", "--port", "0", "--max-model-len", "2048", "--max-num-seqs", "4",
			"--block-size", "32", "--num-gpu-blocks-override", "100", "--additional-config",
			`{"override_neuron_config":{"is_prefix_caching":true,"is_block_kv_layout":true}}`}, code: 1,
			lines: []string{"EngineCore failed to start.", "AssertionError: At least 256 blocks are required for max_model_len 2048, but only 100 blocks are available"}},
		// pa_num_blocks that disagrees with --num-gpu-blocks-override.
		{name: "pa_num_blocks_mismatch", args: []string{"serve", "m", "--port", "0", "--max-model-len", "2048", "--max-num-seqs", "4",
			"--block-size", "32", "--enable-prefix-caching", "--num-gpu-blocks-override", "4", "--additional-config",
			`{"override_neuron_config":{"is_prefix_caching":true,"is_block_kv_layout":true,"pa_num_blocks":8}}`}, code: 1,
			lines: []string{"ValueError: pa_num_blocks (8) must match your --num-gpu-blocks-override intent(4)"}},
		// Listed context buckets with prefix caching and no prefix_buckets.
		{name: "prefix_buckets_missing", args: []string{"serve", "m", "--port", "0", "--max-model-len", "2048", "--max-num-seqs", "4",
			"--block-size", "32", "--enable-prefix-caching", "--num-gpu-blocks-override", "256", "--additional-config",
			`{"override_neuron_config":{"is_prefix_caching":true,"is_block_kv_layout":true,"context_encoding_buckets":[512,2048]}}`}, code: 1,
			lines: []string{"EngineCore failed to start.", `TypeError: can only concatenate list (not "NoneType") to list`}},
		// NEURON_RT_VISIBLE_CORES held by another live simulator.
		{name: "cores_busy", args: rerankArgs("0", `{}`), env: map[string]string{"NEURON_RT_VISIBLE_CORES": "0-1"}, holdCores: []int{1}, code: 1,
			lines: []string{"NeuronCore(s) not available - Requested:nc0-nc1 Available:0", "EngineCore failed to start."}},
		// An unknown flag fails like argparse, status 2.
		{name: "unknown_flag", args: []string{"serve", "m", "--foo", "1"}, code: 2,
			lines: []string{"usage: vllm serve", "vllm: error: unrecognized arguments: --foo 1"}},
		// --device was removed in vLLM 0.10.
		{name: "device_flag", args: []string{"serve", "m", "--device", "neuron"}, code: 2,
			lines: []string{"vllm: error: unrecognized arguments: --device neuron"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			if len(r.holdCores) > 0 {
				locks, busy, err := acquireCores(r.holdCores)
				if err != nil || len(busy) > 0 {
					t.Fatalf("hold cores: %v %v", busy, err)
				}
				t.Cleanup(locks.release)
			}
			m := startMain(t, r.env, r.args...)
			err := m.wait(t)
			if got := exitCode(err); got != r.code {
				t.Fatalf("exit code %d (%v), want %d\n%s\n%s", got, err, r.code, m.out, m.err)
			}
			inOrder(t, m.out.String(), r.lines...)
		})
	}
}

// TestMainUnexpectedKeyword checks NxDI's warning for an unknown override
// key, which is not fatal.
func TestMainUnexpectedKeyword(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	m := startMain(t, nil, rerankArgs("0", `{"on_device_sampling_config":null,"enable_buckting":true}`)...)
	m.baseURL(t)
	if !strings.Contains(m.out.String(), "NeuronConfig init: Unexpected keyword arguments: {'enable_buckting': True}") {
		t.Fatalf("no warning:\n%s", m.out)
	}
}

// TestMainStacks checks what each simulated stack logs for the override
// loadgen writes: the vLLM version it pins, the forced token budget, and
// the "Unexpected keyword arguments" of a late-popped key on NxDI 2.26 only.
func TestMainStacks(t *testing.T) {
	rows := []struct {
		stack   string
		version string
		warns   bool
	}{
		{"2.26", "0.11.0", true},  // NxDI 0.6.10598 pops skip_warmup after its check
		{"2.27", "0.11.0", false}, // NxDI 0.7.14366 pops it before
	}
	for _, r := range rows {
		t.Run(r.stack, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			m := startMain(t, nil, rerankArgs("0", `{"on_device_sampling_config":null,"skip_warmup":true}`, "--sim-stack", r.stack, "--max-num-batched-tokens", "256")...)
			m.baseURL(t)
			out := m.out.String()
			inOrder(t, out, "vLLM API server version "+r.version,
				"INFO:vllm_neuron.platform:Neuron custom scheduler default: max_num_batched_tokens set to 131072.")
			if got := strings.Contains(out, "WARNING:root:NeuronConfig init: Unexpected keyword arguments: {'skip_warmup': True}"); got != r.warns {
				t.Errorf("skip_warmup warning logged: %v, want %v\n%s", got, r.warns, out)
			}
		})
	}
	if _, err := ParseArgs([]string{"serve", "m", "--sim-stack", "2.99"}, nil); err == nil || !strings.Contains(err.Error(), "invalid choice: '2.99' (choose from 2.26, 2.27)") {
		t.Errorf("unknown stack: %v", err)
	}
}

// TestMainEngineDeath checks a prompt longer than the largest context
// bucket: the ValueError in the log, a 500 for that request, then the
// process ends with status 1, as a dead engine takes vLLM down.
func TestMainEngineDeath(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	m := startMain(t, nil, rerankArgs("0", `{"on_device_sampling_config":null,"context_encoding_buckets":[128,256]}`)...)
	url := m.baseURL(t)
	long := strings.Repeat("w ", 300)
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(fmt.Sprintf(`{"prompt":%q,"max_tokens":1}`, long)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), EngineDeadMessage) {
		t.Fatalf("status %d body %s, want 500 EngineDeadError", resp.StatusCode, b)
	}
	if got := exitCode(m.wait(t)); got != 1 {
		t.Fatalf("exit code %d, want 1", got)
	}
	inOrder(t, m.err.String(), "ValueError: Input len 301 exceeds largest bucket (256) for context_encoding_model", "EngineDeadError")
	inOrder(t, m.out.String(), "EngineCore encountered a fatal error.", "Shutting down")
}

// TestMainSkipWarmup checks that skip_warmup skips the warmup phase.
func TestMainSkipWarmup(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	m := startMain(t, nil, rerankArgs("0", `{"skip_warmup":true}`)...)
	m.baseURL(t)
	if out := m.out.String(); strings.Contains(out, "Warming up the model.") || !strings.Contains(out, "Skipping model warmup") {
		t.Fatalf("warmup not skipped:\n%s", out)
	}
}

// TestCompileGrowsWithBuckets checks the compile time against the number of
// buckets, as logged by a cold start.
func TestCompileGrowsWithBuckets(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	built := regexp.MustCompile(`Finished building model in ([0-9.]+) seconds`)
	var prev float64
	for _, override := range []string{`{"enable_bucketing":false}`, `{"context_encoding_buckets":[512,2048],"token_generation_buckets":[2048]}`, `{}`} {
		m := startMain(t, nil, rerankArgs("0", override)...)
		out := m.out.waitFor(t, "Finished building model in")
		var secs float64
		fmt.Sscan(built.FindStringSubmatch(out)[1], &secs)
		if secs <= prev {
			t.Fatalf("%s compiled in %v s, not more than the previous %v s", override, secs, prev)
		}
		prev = secs
		m.cancel()
		m.wait(t)
	}
}
