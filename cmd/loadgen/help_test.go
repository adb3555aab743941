package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen/testkit"
	"loadgen/server/sim"
)

// TestHelp checks every command's --help against a golden file (refresh
// with -update) and the rules the golden file must keep: no placeholder
// made of a backticked phrase, one default per flag, no value read from
// the environment shown as a default, the environment variables listed. It
// sets environment variables, so it does not run in parallel.
func TestHelp(t *testing.T) {
	const secret = "sk-help-test-secret"
	t.Setenv("LOADGEN_API_KEY", secret)
	t.Setenv("LOADGEN_PORT", "9123")
	var all strings.Builder
	for _, args := range [][]string{{"--help"}, {"sweep", "--help"}, {"run", "--help"}, {"report", "--help"},
		{"compare", "--help"}, {"sim", "--help"}, {"selftest", "--help"}, {"doctor", "--help"}, {"merge", "--help"}, {"k8s", "--help"}} {
		r := runCLI(t, args...)
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("loadgen %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
		fmt.Fprintf(&all, "$ loadgen %s\n%s\n", strings.Join(args, " "), strings.ReplaceAll(r.stdout, version, "$VERSION"))
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Count(line, "(default:") > 1 {
				t.Errorf("loadgen %s: two defaults: %q", args[0], line)
			}
			if strings.Contains(line, "--simulate vllm serve") {
				t.Errorf("loadgen %s: a backticked phrase became a placeholder: %q", args[0], line)
			}
			if strings.Contains(line, secret) || strings.Contains(line, "9123") {
				t.Errorf("loadgen %s: help shows a value from the environment: %q", args[0], line)
			}
		}
	}
	for _, env := range []string{"[$LOADGEN_PORT]", "[$LOADGEN_PROFILE]", "[$LOADGEN_MODEL]", "[$LOADGEN_SIM_SPEED]", "$LOADGEN_API_KEY, then $VLLM_API_KEY"} {
		if !strings.Contains(all.String(), env) {
			t.Errorf("help does not list %s", env)
		}
	}
	testkit.Golden(t, filepath.Join("testdata", "help.golden"), []byte(all.String()))
}

// TestExitCode maps errors to exit statuses by loadgen's own types only.
func TestExitCode(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		// Success.
		{"nil", context.Background(), nil, exitOK},
		// Success, but the user interrupted (a command that stops cleanly).
		{"nil after an interrupt", cancelled, nil, exitInterrupted},
		// Bad input, wrapped or not.
		{"usage", context.Background(), fmt.Errorf("sweep: %w", usagef("bad")), exitUsage},
		// An outcome already reported keeps its code.
		{"silent", context.Background(), silentError{exitFailed}, exitFailed},
		// The simulator's argparse error exits 2, as vLLM's does.
		{"simulator usage", context.Background(), &sim.ExitError{Code: sim.ExitUsage, Err: errors.New("unrecognized arguments")}, exitUsage},
		// A library's own exit code (urfave's 3) is not trusted.
		{"urfave exit code", context.Background(), cli.Exit("No help topic", 3), exitFailed},
		// Interrupted mid-way.
		{"cancelled", cancelled, errors.New("reading: context canceled"), exitInterrupted},
		// Anything else is a failure.
		{"other", context.Background(), errors.New("disk full"), exitFailed},
	} {
		var stderr strings.Builder
		if got := exitCode(tc.ctx, tc.err, &stderr); got != tc.want {
			t.Errorf("%s: exitCode = %d, want %d", tc.name, got, tc.want)
		}
		if tc.err != nil && !errors.As(tc.err, new(silentError)) && strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%s: stderr %q, want one line", tc.name, stderr.String())
		}
	}
}

// TestBuildVersion formats the build information of a binary.
func TestBuildVersion(t *testing.T) {
	t.Parallel()
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "6f4e143e8d0e85c5e5b0ca6ff57d761a6eaa5e8e"},
			{Key: "vcs.time", Value: "2025-11-05T20:20:44Z"}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		// A tagged, clean build.
		{"tagged", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}, Settings: vcs("false")}, true,
			"v0.3.1 (git 6f4e143e8d0e, committed 2025-11-05T20:20:44Z)"},
		// go build in a work tree with changes (Go ≥ 1.24 derives the
		// pseudo-version and +dirty itself).
		{"dirty", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20251105202044-6f4e143e8d0e+dirty"}, Settings: vcs("true")}, true,
			"v0.0.0-20251105202044-6f4e143e8d0e+dirty (git 6f4e143e8d0e+dirty, committed 2025-11-05T20:20:44Z)"},
		// go run, or -buildvcs=false: nothing to go by.
		{"no vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel (no VCS information in this build)"},
		// A binary built without module support.
		{"no build info", nil, false, "unknown (no build information in this binary)"},
	} {
		if got := buildVersion(tc.info, tc.ok); got != tc.want {
			t.Errorf("%s: buildVersion = %q, want %q", tc.name, got, tc.want)
		}
	}
	// The binary's own: --version prints it.
	if r := runCLI(t, "--version"); r.code != exitOK || r.stdout != "loadgen version "+version+"\n" {
		t.Errorf("--version: exit %d, %q; want %q", r.code, r.stdout, version)
	}
}
