package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/profiles"
	"loadgen/server"
	"loadgen/server/servertest"
	"loadgen/server/sim"
)

// TestRunSimulateJSON runs `loadgen run --simulate --json` (the shipped
// profile, its first config, its dataset) in this process, which launches
// the simulator, and parses the phase result it prints.
func TestRunSimulateJSON(t *testing.T) {
	t.Parallel()
	r := runCLI(t, append([]string{"run", "--queries", "3", "--json"}, simArgs...)...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var res schema.PhaseResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout is not a phase result: %v\n%s", err, r.stdout)
	}
	if !res.Simulated || res.Phase != "run" || res.Config != "cache_on-bucketing_on" || res.EndReason != schema.EndCompleted ||
		res.QueriesCompleted != 3 || res.Completed != 9 || res.Failed != 0 {
		t.Errorf("result: simulated %v phase %q config %q end %q, %d queries and %d/%d requests ok/failed; want a SIMULATED sync run of 3 queries × 3 requests",
			res.Simulated, res.Phase, res.Config, res.EndReason, res.QueriesCompleted, res.Completed, res.Failed)
	}
	if !strings.Contains(r.stderr, "(SIMULATED)") {
		t.Errorf("progress does not say SIMULATED:\n%s", r.stderr)
	}
}

// TestRunTable runs `loadgen run --simulate` with --out in this process
// and checks the compact table, the kept results directory and that the
// server it launched is gone.
func TestRunTable(t *testing.T) {
	t.Parallel()
	profile := servertest.WriteProfile(t, "runtable", `configs:
  - name: only
    enable_prefix_caching: false
    pa_num_blocks: 2
`)
	out := filepath.Join(t.TempDir(), "out")
	r := runCLI(t, append([]string{"run", "--profile", profile, "--rate", "50", "--queries", "4", "--out", out}, simArgs...)...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, re := range []string{`^SIMULATED — `, `(?m)^phase run \(poisson, target 50 q/s\) +config only +ended: completed$`,
		`(?m)^queries +4 ok, 0 failed `, `(?m)^requests +8 ok, 0 failed `, `(?m)^query_latency +[0-9.]+ `, `(?m)^results: ` + regexp.QuoteMeta(out) + `$`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("table does not match %q:\n%s", re, r.stdout)
		}
	}
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(out, schema.PhaseFile("only", "run")), &res)
	if res.QueriesCompleted != 4 || res.Arrival != "poisson" {
		t.Errorf("kept result: %d queries, arrival %q", res.QueriesCompleted, res.Arrival)
	}
	servertest.AssertServerGone(t, out, "only")
}

// remoteSim serves loadgen's simulator (zero latency) in this process, as
// a server loadgen does not start, requiring key as its API key when it is
// not empty; completions counts the completion requests it got.
func remoteSim(t *testing.T, key string) (srv *httptest.Server, completions *atomic.Int64) {
	t.Helper()
	args := []string{"/models/Qwen3-Reranker-0.6B", "--served-model-name", "qwen3-reranker",
		"--max-model-len", "2048", "--no-enable-prefix-caching",
		"--additional-config", `{"override_neuron_config":{"on_device_sampling_config":null}}`}
	if key != "" {
		args = append(args, "--api-key", key)
	}
	opts, err := sim.ParseArgs(args, []string{"LOADGEN_SIM_ZERO_LATENCY=1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	completions = new(atomic.Int64)
	h := s.Handler()
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/completions" {
			completions.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, completions
}

// remoteRunArgs are `loadgen run --url` flags for a tiny dataset in dir:
// three queries of four documents, two requests each.
func remoteRunArgs(t *testing.T, url, dir string) []string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "q.csv"), []byte(servertest.TinyCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"run", "--url", url, "--dataset", filepath.Join(dir, "q.csv"), "--search-num", "4", "--batch-size", "2",
		"--queries", "3", "--json", "--out", filepath.Join(dir, "out")}
}

// TestRunRemote points `loadgen run --url` at an in-process simulated
// server (zero latency) and checks that it measures it and launches
// nothing.
func TestRunRemote(t *testing.T) {
	t.Parallel()
	srv, completions := remoteSim(t, "")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	r := runCLI(t, remoteRunArgs(t, srv.URL, dir)...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var res schema.PhaseResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout is not a phase result: %v\n%s", err, r.stdout)
	}
	if res.Simulated || res.QueriesCompleted != 3 || res.Completed != 6 || res.Failed != 0 {
		t.Errorf("result: simulated %v, %d queries, %d/%d requests; want 3 queries × 2 requests, not labelled SIMULATED (loadgen did not launch the simulator)",
			res.Simulated, res.QueriesCompleted, res.Completed, res.Failed)
	}
	if n := completions.Load(); n != 6 {
		t.Errorf("the remote server got %d completion requests, want 6", n)
	}
	// Nothing launched: the startup record is remote, with no process
	// and no server log.
	st := servertest.ReadStartup(t, out, "cache_on-bucketing_on")
	if !st.Remote || st.PID != 0 || st.URL != srv.URL || !st.Ready {
		t.Errorf("startup.json: remote %v pid %d url %q ready %v; want remote %s, no pid", st.Remote, st.PID, st.URL, st.Ready, srv.URL)
	}
	if _, err := os.Stat(filepath.Join(out, "cache_on-bucketing_on", server.LogFile)); !os.IsNotExist(err) {
		t.Errorf("a remote run wrote a server log (%v)", err)
	}
}

// TestRunRemoteAPIKey runs against a server that requires an API key: it
// is refused without one, works with --api-key, and the key appears in no
// output and no file.
func TestRunRemoteAPIKey(t *testing.T) {
	t.Parallel()
	const key = "sk-loadgen-test-4f9c2e"
	srv, completions := remoteSim(t, key)

	r := runCLI(t, remoteRunArgs(t, srv.URL, t.TempDir())...)
	if r.code != exitFailed || !strings.Contains(r.stderr, "401 Unauthorized") || !strings.Contains(r.stderr, "API key") {
		t.Errorf("without a key: exit %d, want 1 naming the refused key\n%s", r.code, r.stderr)
	}

	dir := t.TempDir()
	r = runCLI(t, append(remoteRunArgs(t, srv.URL, dir), "--api-key", key)...)
	if r.code != exitOK || completions.Load() != 6 {
		t.Fatalf("with --api-key: exit %d, %d completions\n%s", r.code, completions.Load(), r.stderr)
	}
	assertNoSecret(t, key, r, filepath.Join(dir, "out"))
}

// TestRunRemoteAPIKeyEnv takes the key from LOADGEN_API_KEY, or from
// VLLM_API_KEY. It sets the environment, so it does not run in parallel.
func TestRunRemoteAPIKeyEnv(t *testing.T) {
	const key = "sk-loadgen-env-7d1a0b"
	srv, completions := remoteSim(t, key)
	for _, env := range apiKeyEnv {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, key)
			dir := t.TempDir()
			before := completions.Load()
			r := runCLI(t, remoteRunArgs(t, srv.URL, dir)...)
			if r.code != exitOK || completions.Load() != before+6 {
				t.Fatalf("exit %d, %d completions\n%s", r.code, completions.Load()-before, r.stderr)
			}
			assertNoSecret(t, key, r, filepath.Join(dir, "out"))
		})
	}
	// A key with a control character (the newline of `cat keyfile`)
	// would fail every probe until the ready timeout: refused at once,
	// naming where it came from and not the key.
	for _, env := range apiKeyEnv {
		t.Run(env+" with a newline", func(t *testing.T) {
			t.Setenv(env, key+"\n")
			before := completions.Load()
			r := runCLI(t, remoteRunArgs(t, srv.URL, t.TempDir())...)
			if r.code != exitUsage || !strings.Contains(r.stderr, env+`: the API key contains a control character (a newline "\n"`) || completions.Load() != before {
				t.Errorf("exit %d, want 2 naming %s\n%s", r.code, env, r.stderr)
			}
			assertNoSecret(t, key, r, t.TempDir())
		})
	}
	r := runCLI(t, append(remoteRunArgs(t, srv.URL, t.TempDir()), "--api-key", key+"\r\n")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, `--api-key: the API key contains a control character (a carriage return`) {
		t.Errorf("--api-key with CRLF: exit %d, want 2\n%s", r.code, r.stderr)
	}
	assertNoSecret(t, key, r, t.TempDir())
	// A launched server takes no key from the environment (a vLLM host
	// often exports VLLM_API_KEY): the simulated run still works.
	t.Setenv("VLLM_API_KEY", key)
	if r := runCLI(t, append([]string{"run", "--queries", "1", "--json"}, simArgs...)...); r.code != exitOK {
		t.Errorf("run --simulate with VLLM_API_KEY exported: exit %d\n%s", r.code, r.stderr)
	}
}

// assertNoSecret fails if secret appears in the command's output or in any
// file under dir.
func assertNoSecret(t *testing.T, secret string, r cliResult, dir string) {
	t.Helper()
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
		t.Errorf("the API key is printed")
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), secret) {
			t.Errorf("the API key is written to %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunFailures checks `run`'s exit status 1 when its config fails: the
// server crashes mid-phase (with --json too, which prints the partial
// result), or it does not start.
func TestRunFailures(t *testing.T) {
	t.Parallel()
	profile := servertest.WriteProfile(t, "runcrash", `configs:
  - name: crashy
    enable_prefix_caching: false
    pa_num_blocks: 2
    env:
      LOADGEN_SIM_CRASH_AFTER: "4"
`)
	for _, json := range []bool{false, true} {
		args := append([]string{"run", "--profile", profile, "--rate", "50", "--queries", "100"}, simArgs...)
		if json {
			args = append(args, "--json")
		}
		r := runChild(t, args...)
		if r.code != exitFailed {
			t.Errorf("crash mid-run (--json %v): exit %d, want 1", json, r.code)
		}
		if json && !strings.Contains(r.stdout, `"end_reason": "server_exited"`) {
			t.Errorf("--json does not print the partial result:\n%.400s", r.stdout)
		}
		if !json && !strings.Contains(r.stdout, "ended: server_exited") {
			t.Errorf("the table does not say the server exited:\n%s", r.stdout)
		}
	}

	// A config that does not start: stale compiled artifacts (k_shape).
	path := servertest.WriteProfile(t, "runkshape", `configs:
  - name: run-stale
    enable_prefix_caching: false
    pa_num_blocks: 2
`)
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := loadgen.Plan(loadgen.Options{Profile: p, Simulate: true})
	if err != nil {
		t.Fatal(err)
	}
	servertest.WriteStaleArtifacts(t, plan.Configs[0].ArtifactsDir, true)
	r := runChild(t, append([]string{"run", "--profile", path, "--queries", "2"}, simArgs...)...)
	if r.code != exitFailed || !strings.Contains(r.stderr, "loadgen: run: run-stale: k_shape: ") {
		t.Errorf("config that does not start: exit %d, want 1 with the failure class\n%s", r.code, r.stderr)
	}
}

// TestRunPhaseRules: run's phase flags are held to the profile's rules
// (profiles.ResolvePhase) with the flags named; each refused phase exits 2
// before anything starts.
func TestRunPhaseRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flags []string
		want  string // the one stderr line, after "loadgen: "
	}{
		// A count or a time, not both.
		{"queries and duration", []string{"--queries", "5", "--duration", "10s"}, "--duration: set --queries or --duration, not both"},
		// An open-loop phase needs an end.
		{"no end", []string{"--rate", "5"}, "set --queries (how many) or --duration (how long) to end the phase"},
		{"zero queries", []string{"--queries", "0"}, "--queries: must be at least 1, got 0"},
		{"zero duration", []string{"--duration", "0s"}, "--duration: must be positive"},
		// Arrival typos get a suggestion.
		{"arrival typo", []string{"--arrival", "possion", "--rate", "5", "--queries", "3"}, `--arrival: "possion" is not an arrival process; did you mean poisson?`},
		// Sync is a closed loop: no rate, one query in flight.
		{"sync with a rate", []string{"--arrival", "sync", "--rate", "5"}, "--rate: a sync phase sends the next query when the last one is done, so it has no rate: remove --rate"},
		{"sync with a cap", []string{"--max-concurrency", "4"}, "--max-concurrency: a sync phase has one query in flight; for a closed loop of 4 requests in flight use --arrival inf with --max-concurrency 4"},
		// Inf sends everything at once: a cap, no rate.
		{"inf without a cap", []string{"--arrival", "inf", "--queries", "3"}, "--max-concurrency: required with rate inf: every query is due at once, so cap the requests in flight (e.g. --max-concurrency 4)"},
		{"rate inf without a cap", []string{"--rate", "inf", "--queries", "3"}, "--max-concurrency: required with rate inf: every query is due at once, so cap the requests in flight (e.g. --max-concurrency 4)"},
		{"inf with a rate", []string{"--arrival", "inf", "--rate", "5", "--max-concurrency", "4", "--queries", "3"}, "--rate: arrival inf sends every query at once: remove --rate, or use poisson, gamma or constant"},
		{"zero cap", []string{"--arrival", "inf", "--max-concurrency", "0", "--queries", "3"}, "--max-concurrency: must be at least 1, got 0"},
		// Open-loop arrivals need a positive rate.
		{"no rate", []string{"--arrival", "poisson", "--queries", "3"}, "--rate: required for arrival poisson: queries per second, e.g. --rate 2"},
		{"zero rate", []string{"--rate", "0", "--queries", "3"}, "--rate: must be positive, got 0"},
		{"negative rate", []string{"--rate", "-1", "--queries", "3"}, "--rate: must be positive, got -1"},
		{"rate not a number", []string{"--rate", "fast", "--queries", "3"}, `--rate: want queries per second (a number) or inf, got "fast"`},
		// Burstiness is gamma's shape.
		{"burstiness with poisson", []string{"--rate", "5", "--burstiness", "2", "--queries", "3"}, "--burstiness: only applies to --arrival gamma (poisson is gamma with burstiness 1)"},
		{"zero burstiness", []string{"--arrival", "gamma", "--rate", "5", "--burstiness", "0", "--queries", "3"}, "--burstiness: must be positive (below 1 is burstier than poisson, above 1 more regular), got 0"},
		{"negative warmup", []string{"--warmup", "-1", "--queries", "2"}, "--warmup: must not be negative, got -1"},
		{"zero request timeout", []string{"--request-timeout", "0s", "--queries", "2"}, "--request-timeout: must be positive (default 5m0s)"},
		// More arrivals than one phase may plan: refused before anything
		// is scheduled (it used to spin a core for minutes).
		{"absurd queries", []string{"--queries", "1000000000000"}, "--queries: 1000000000000 queries (and 0 warmup) are more than 1000000000, loadgen's bound for one phase: is --queries 1000000000000 a typo?"},
		{"absurd rate for a duration", []string{"--rate", "1000000", "--duration", "1000h"}, "--duration: 1000h0m0s at 1e+06 queries/s plans about 3.6e+12 arrivals, more than 1000000000, loadgen's bound for one phase: shorten --duration or lower the rate"},
		// A synthetic workload has no dataset to make one pass over.
		{"one pass over synthetic", []string{"--profile", "shipped:generate", "--arrival", "sync"}, "a sync phase without --queries or --duration makes one pass over the dataset, and a synthetic workload has none: set --queries or --duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, append([]string{"run", "--simulate"}, tc.flags...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			if want := "loadgen: " + tc.want + "\n"; r.stderr != want {
				t.Errorf("stderr:\n got: %s\nwant: %s", r.stderr, want)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}
}

// TestRunPhaseMatchesProfile: the same phase written as a profile's load:
// entry and as run's flags resolves to the same phase (the run command
// names it "run"; both take the profile's slo).
func TestRunPhaseMatchesProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		yaml  string // the keys of load[0], after name: run
		flags []string
	}{
		// The default: one sync pass over the dataset.
		{"sync pass", "arrival: sync", nil},
		{"sync counted", "arrival: sync\n    queries: 5\n    warmup: 2\n    seed: 3", []string{"--queries", "5", "--warmup", "2", "--seed", "3"}},
		{"sync with cap 1", "arrival: sync\n    max_concurrency: 1\n    duration: 1m", []string{"--arrival", "sync", "--max-concurrency", "1", "--duration", "1m"}},
		// --rate without --arrival is poisson.
		{"poisson", "arrival: poisson\n    rate: 2\n    queries: 8", []string{"--rate", "2", "--queries", "8"}},
		{"poisson named", "arrival: poisson\n    rate: 0.5\n    queries: 8", []string{"--arrival", "poisson", "--rate", "0.5", "--queries", "8"}},
		{"gamma", "arrival: gamma\n    rate: 2\n    burstiness: 0.5\n    duration: 30s", []string{"--arrival", "gamma", "--rate", "2", "--burstiness", "0.5", "--duration", "30s"}},
		{"constant capped", "arrival: constant\n    rate: 3\n    max_concurrency: 2\n    queries: 6", []string{"--arrival", "constant", "--rate", "3", "--max-concurrency", "2", "--queries", "6"}},
		// Rate inf under an open-loop arrival is arrival inf.
		{"rate inf", "arrival: poisson\n    rate: inf\n    max_concurrency: 4\n    queries: 12", []string{"--rate", "inf", "--max-concurrency", "4", "--queries", "12"}},
		{"inf", "arrival: inf\n    max_concurrency: 4\n    queries: 12", []string{"--arrival", "inf", "--max-concurrency", "4", "--queries", "12"}},
		{"request timeout", "arrival: poisson\n    rate: 1\n    queries: 2\n    request_timeout: 30s", []string{"--rate", "1", "--queries", "2", "--request-timeout", "30s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := servertest.WriteProfile(t, "same", "slo:\n  query_latency: 2s\nload:\n  - name: run\n    "+tc.yaml+"\n")
			p, err := profiles.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			fromProfile := p.Load[0]
			var fromFlags profiles.Phase
			app := &cli.App{Flags: runCommand(nil, nil).Flags, Writer: io.Discard, ErrWriter: io.Discard,
				Action: func(c *cli.Context) (err error) { fromFlags, err = runPhase(c, p); return err }}
			inProcess.Lock() // urfave/cli's help flag is global
			err = app.Run(append([]string{"run"}, tc.flags...))
			inProcess.Unlock()
			if err != nil {
				t.Fatalf("flags %q: %v", tc.flags, err)
			}
			if !reflect.DeepEqual(fromFlags, fromProfile) {
				t.Errorf("flags %q resolve to\n%+v\nthe profile's phase to\n%+v", tc.flags, fromFlags, fromProfile)
			}
			if fromProfile.SLO == nil || fromProfile.SLO.QueryLatency != profiles.Duration(2*time.Second) {
				t.Errorf("the profile's slo was not merged: %+v", fromProfile.SLO)
			}
		})
	}
}
