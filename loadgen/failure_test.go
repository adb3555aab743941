package loadgen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/schema"
)

// TestPhaseFailure: a phase that ran to its end still fails when its
// numbers would describe the survivors rather than the server.
func TestPhaseFailure(t *testing.T) {
	t.Parallel()
	errs := map[string]schema.ErrorCount{
		"missing_logprobs": {Count: 9, Sample: "set on_device_sampling_config: null"},
		"timeout":          {Count: 1, Sample: "deadline"},
	}
	for _, tc := range []struct {
		name string
		res  schema.PhaseResult
		want string // substring of the reason; "" = not failed
	}{
		// Every request answered: ok.
		{"clean", schema.PhaseResult{Completed: 300, QueriesCompleted: 100, EndReason: schema.EndCompleted}, ""},
		// 1 failure in 300 requests is within the 1% allowance.
		{"one in three hundred", schema.PhaseResult{Completed: 299, Failed: 1, QueriesCompleted: 99, EndReason: schema.EndCompleted,
			Errors: map[string]schema.ErrorCount{"timeout": {Count: 1}}}, ""},
		// Nothing completed (e.g. on-device sampling: no logprobs): the
		// reason names the dominant error and its hint.
		{"nothing completed", schema.PhaseResult{Failed: 10, EndReason: schema.EndCompleted, Errors: errs},
			"no query completed (10 requests failed; mostly missing_logprobs: set on_device_sampling_config: null)"},
		// 10% failures.
		{"ten percent", schema.PhaseResult{Completed: 90, Failed: 10, QueriesCompleted: 30, EndReason: schema.EndCompleted, Errors: errs},
			"10 of 100 requests failed; mostly missing_logprobs"},
		// The engine ended the phase on an error: its last warning says why.
		{"error end", schema.PhaseResult{Completed: 3, QueriesCompleted: 1, EndReason: schema.EndError, Warnings: []string{"x", "workload: broken"}},
			"the phase ended on an error: workload: broken"},
	} {
		got := phaseFailure(&tc.res)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: phaseFailure = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestKeepPreviousLog: a retried config keeps the log of the earlier
// attempt.
func TestKeepPreviousLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keepPreviousLog(dir, nil) // nothing to keep
	for i, text := range []string{"first", "second"} {
		if err := os.WriteFile(filepath.Join(dir, "server.log"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		keepPreviousLog(dir, nil)
		b, err := os.ReadFile(filepath.Join(dir, []string{"server.1.log", "server.2.log"}[i]))
		if err != nil || string(b) != text {
			t.Errorf("attempt %d: kept %q, %v", i+1, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "server.log")); !os.IsNotExist(err) {
		t.Errorf("server.log still there: %v", err)
	}
}

// TestMissingCommand: without vllm on PATH nothing can run; the sweep says so
// in one line that points at --simulate, before it creates anything.
func TestMissingCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no vllm there
	p := writeProfile(t, "novllm", "")
	out := filepath.Join(t.TempDir(), "out")
	_, err := Preflight(Options{Profile: p, Out: out})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), `"vllm" is not in PATH`) || !strings.Contains(err.Error(), "--simulate") {
		t.Fatalf("Preflight = %v, want bad input naming vllm and --simulate", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the results directory was created: %v", err)
	}
}
