package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

func TestProcess_slowStart(t *testing.T) {
	t.Parallel()
	gate := filepath.Join(t.TempDir(), "gate")
	cfg := fakeConfig(t, modeGated, fakeGate+"="+gate, "FAKE_VALUE=a", "FAKE_VALUE=b")
	p := startFake(t, cfg)

	// The fake stops while compiling until the gate exists; progress must
	// show that phase (a long compile looks like progress, not a hang).
	var mu sync.Mutex
	var seen []string
	err := p.WaitReady(context.Background(), func(pr Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 || seen[len(seen)-1] != pr.Phase {
			seen = append(seen, pr.Phase)
		}
		if pr.Phase == PhaseCompiling {
			if pr.LastLine == "" || pr.Elapsed <= 0 || pr.Probe == "" {
				t.Errorf("progress while compiling = %+v, want last line, elapsed time and probe", pr)
			}
			if err := os.WriteFile(gate, nil, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	mu.Lock()
	if !containsInOrder(seen, PhaseCompiling) || seen[len(seen)-1] == PhaseLoading {
		t.Errorf("progress phases = %v, want compiling among them", seen)
	}
	mu.Unlock()

	st := p.Startup()
	if !st.Ready || st.ReadySeconds <= 0 || st.Version != "0.11.0" || st.CompiledArtifacts != "miss" {
		t.Errorf("startup = ready %t after %v s, version %q, artifacts %q; want ready, >0 s, 0.11.0, miss",
			st.Ready, st.ReadySeconds, st.Version, st.CompiledArtifacts)
	}
	var names []string
	for _, ph := range st.Phases {
		names = append(names, ph.Name)
	}
	if got, want := strings.Join(names, " "), "loading generating_hlo compiling loading_weights warmup ready"; got != want {
		t.Errorf("phases = %q, want %q", got, want)
	}
	if c, r := p.Failure(); c != schema.FailureNone || r != "" {
		t.Errorf("Failure() = %q, %q; want none", c, r)
	}
	if st.SchemaVersion != schema.StartupSchemaVersion || st.PID != p.PID() || st.Config != cfg.Name || st.Remote {
		t.Errorf("startup header = %+v", st)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("startup does not marshal: %v", err)
	}

	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGroupGone(t, p)
	// server.log has everything the child wrote, and cfg.Env overrode the
	// inherited environment (last value wins) without replacing it.
	log, err := os.ReadFile(filepath.Join(cfg.Dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "server.log", string(log), "FAKE_VALUE=b inherited=true", "Application startup complete.", "Shutting down")
	if c, _ := p.Failure(); c != schema.FailureNone {
		t.Errorf("Failure() after Stop = %q, want none (we stopped it)", c)
	}
	if entries, _ := os.ReadDir(cfg.Dir); len(entries) != 1 {
		t.Errorf("Dir holds %d files, want only %s", len(entries), LogFile)
	}
}

// containsInOrder reports whether list holds s.
func containsInOrder(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestProcess_exitBeforeReady(t *testing.T) {
	t.Parallel()
	engineDied := []string{
		"(EngineCore_DP0 pid=2215) ERROR 11-05 20:21:40 [core.py:718] EngineCore failed to start.",
		"(APIServer pid=2200) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
	}
	tests := []struct {
		name  string
		lines []string
		class schema.FailureClass
		want  string // in the reason
	}{
		// Each class from its real line; the generic engine failure that
		// follows must not hide the cause.
		{"cores busy", append([]string{realLine(t, "cores busy")}, engineDied...), schema.FailureCoresBusy, "NeuronCores 0-1 are held by another process"},
		{"device init", append([]string{realLine(t, "device init")}, engineDied...), schema.FailureDeviceInit, "modprobe neuron"},
		{"device oom", append([]string{realLine(t, "device oom, mempool")}, engineDied...), schema.FailureDeviceOOM, "out of Neuron device memory"},
		{"k_shape", append([]string{realLine(t, "k_shape")}, engineDied...), schema.FailureKShape, "is_block_kv_layout is on without is_prefix_caching"},
		{"block math", append([]string{realLine(t, "block size missing")}, engineDied...), schema.FailureBlockMath, "--block-size is missing"},
		{"bucket exceeded", append([]string{realLine(t, "bucket exceeded")}, engineDied...), schema.FailureBucketExceeded, "3000 tokens"},
		{"cached failed neff", append([]string{realLine(t, "cached failed neff")}, engineDied...), schema.FailureCachedFailedNEF, "--retry_failed_compilation"},
		{"meta tensor", append([]string{realLine(t, "meta tensor")}, engineDied...), schema.FailureMetaTensor, "local model directory"},
		{"runtime abort", []string{realLine(t, "c10 abort")}, schema.FailureRuntimeAbort, "tensor_parallel_size"},
		{"unsupported model", []string{realLine(t, "unsupported model")}, schema.FailureUnsupportedModel, "Qwen3ForSequenceClassification"},
		// argparse fails before the engine exists.
		{"bad arguments", []string{"usage: vllm serve [model_tag] [options]", realLine(t, "unrecognized --device")}, schema.FailureBadArguments, "--device was removed"},
		// uvicorn could not bind after all (SO_REUSEPORT hides most cases).
		{"address in use", []string{realLine(t, "address in use")}, schema.FailureAddressInUse, "[Errno 98]"},
		// Nothing but the generic engine failure.
		{"engine core", engineDied, schema.FailureEngineCore, "EngineCore failed to start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startFake(t, fakeConfig(t, modeExit, fakeLines+"="+strings.Join(tc.lines, "\n")))
			err := p.WaitReady(context.Background(), nil)
			if got := ClassOf(err); got != tc.class {
				t.Fatalf("WaitReady error class = %q, want %q (err: %v)", got, tc.class, err)
			}
			var e *Error
			errors.As(err, &e)
			contains(t, "reason", e.Reason, tc.want)
			// The error the user sees: class, reason, then the log's tail.
			contains(t, "error", err.Error(), string(tc.class)+": "+e.Reason, "last lines of the server log:", tc.lines[len(tc.lines)-1])
			if c, r := p.Failure(); c != tc.class || r != e.Reason {
				t.Errorf("Failure() = %q, %q; want the error's class and reason", c, r)
			}
			st := p.Startup()
			if st.FailureClass != tc.class || st.ExitCode == nil || *st.ExitCode != 1 || st.Ready {
				t.Errorf("startup = class %q, exit %v, ready %t; want %q, 1, false", st.FailureClass, st.ExitCode, st.Ready, tc.class)
			}
			if err := p.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			assertGroupGone(t, p)
		})
	}
}

func TestProcess_exitWithoutKnownCause(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeExitPlain))
	err := p.WaitReady(context.Background(), nil)
	if ClassOf(err) != schema.FailureExited {
		t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), schema.FailureExited, err)
	}
	contains(t, "error", err.Error(), "exited: the server exited (exit status 3) before it was ready", "Killed")
	if st := p.Startup(); st.ExitCode == nil || *st.ExitCode != 3 {
		t.Errorf("exit code = %v, want 3", st.ExitCode)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}

func TestProcess_neverReady(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, modeNever)
	// The fake never listens, so only the timeout can end the wait.
	cfg.ReadyTimeout = 300 * time.Millisecond
	p := startFake(t, cfg)
	err := p.WaitReady(context.Background(), nil)
	if ClassOf(err) != schema.FailureReadyTimeout {
		t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), schema.FailureReadyTimeout, err)
	}
	contains(t, "error", err.Error(), "ready_timeout: not ready after 300ms (phase compiling", "connection refused", "raise server.ready_timeout")
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
	if st := p.Startup(); st.FailureClass != schema.FailureReadyTimeout || st.Ready {
		t.Errorf("startup class = %q, ready %t; want %q, false", st.FailureClass, st.Ready, schema.FailureReadyTimeout)
	}
}

func TestProcess_interrupted(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeNever))
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once the log shows the compile; the wait must end at once.
	err := p.WaitReady(ctx, func(pr Progress) {
		if pr.Phase == PhaseCompiling {
			cancel()
		}
	})
	cancel()
	if ClassOf(err) != schema.FailureInterrupted || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want class %q wrapping context.Canceled", err, schema.FailureInterrupted)
	}
	contains(t, "error", err.Error(), "interrupted while waiting for the server to become ready (phase compiling")
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}

func TestProcess_fatalLineButNoExit(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeFatalHang))
	p.fatalGrace = 100 * time.Millisecond
	err := p.WaitReady(context.Background(), nil)
	if ClassOf(err) != schema.FailureCoresBusy {
		t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), schema.FailureCoresBusy, err)
	}
	contains(t, "error", err.Error(), "NeuronCores 0-1 are held by another process", "was still running")
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}

func TestProcess_wrongModel(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeWrongModel))
	err := p.WaitReady(context.Background(), nil)
	if ClassOf(err) != schema.FailureModelMissing {
		t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), schema.FailureModelMissing, err)
	}
	contains(t, "error", err.Error(), `lists [some-other-model], not "qwen3-reranker"`, "server.served_model_name")
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}

func TestProcess_warningsVoidTheRun(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeWarn))
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v (warnings must not stop the server)", err)
	}
	c, reason := p.Failure()
	if c != schema.FailureInvalidConfig {
		t.Fatalf("Failure() = %q, want %q", c, schema.FailureInvalidConfig)
	}
	contains(t, "reason", reason, "enable_buckting (did you mean enable_bucketing?)")
	st := p.Startup()
	if st.CompiledArtifacts != "hit" || len(st.Findings) != 2 || st.Findings[0].Fatal || st.Findings[1].Fatal {
		t.Errorf("startup = artifacts %q, findings %+v; want hit and two warnings", st.CompiledArtifacts, st.Findings)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
}

func TestProcess_crashMidRun(t *testing.T) {
	t.Parallel()
	p := startFake(t, fakeConfig(t, modeCrash))
	if err := p.WaitReady(context.Background(), nil); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	select {
	case <-p.Exited():
		t.Fatal("Exited() closed while the server runs")
	default:
	}
	resp, err := http.Post(p.BaseURL()+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"long"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("completion status = %d, want 500", resp.StatusCode)
	}
	waitClosed(t, p.Exited(), "the crashed server's exit")
	c, reason := p.Failure()
	if c != schema.FailureCrashed {
		t.Fatalf("Failure() = %q, want %q", c, schema.FailureCrashed)
	}
	contains(t, "reason", reason, "died after it was ready (exit status 1)", "bucket_exceeded: a prompt of 3000 tokens")
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	assertGroupGone(t, p)
	// Stopping afterwards does not turn the crash into a clean stop.
	if st := p.Startup(); st.FailureClass != schema.FailureCrashed || !st.Ready {
		t.Errorf("startup = class %q, ready %t; want %q, true", st.FailureClass, st.Ready, schema.FailureCrashed)
	}
}

// TestChildEnv checks a launched server's environment.
func TestChildEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		inherited, env []string
		want           []string
	}{
		// The inherited environment, then the config's on top (the last
		// value of a key wins in exec.Cmd).
		{"inherit and override", []string{"PATH=/bin", "A=1"}, []string{"A=2"}, []string{"PATH=/bin", "A=1", "A=2"}},
		// An exported VLLM_API_KEY does not secure the server behind the
		// profile's back…
		{"inherited key dropped", []string{"PATH=/bin", "VLLM_API_KEY=exported"}, nil, []string{"PATH=/bin"}},
		// …while the profile's key (server.api_key_env) is passed.
		{"profile's key kept", []string{"VLLM_API_KEY=exported"}, []string{"VLLM_API_KEY=profile"}, []string{"VLLM_API_KEY=profile"}},
		// A variable that only starts with the name is not the key.
		{"similar name kept", []string{"VLLM_API_KEY_FILE=x"}, nil, []string{"VLLM_API_KEY_FILE=x"}},
	} {
		if got := childEnv(tc.inherited, tc.env); !slices.Equal(got, tc.want) {
			t.Errorf("%s: childEnv = %q, want %q", tc.name, got, tc.want)
		}
	}
}
