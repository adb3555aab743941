package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/testkit"
	"loadgen/server"
	"loadgen/server/servertest"
)

const rerankProfile = "../../profiles/rerank.yaml"

// TestSweepDryRun checks `sweep --dry-run` on the shipped profile against a
// golden file (refresh with -update), with the flag before or after the
// profile, and that it starts nothing. It runs the sweep's pre-flight: with
// a vllm on PATH (a stand-in script) it passes and says what it checked;
// without one it fails exactly as the sweep would, after the plan.
func TestSweepDryRun(t *testing.T) {
	t.Parallel()
	withVLLM := "PATH=" + fakeVLLM(t) + string(os.PathListSeparator) + os.Getenv("PATH")
	_, resultsBefore := os.Stat("results")
	before := runChildEnv(t, []string{withVLLM}, "sweep", "--dry-run", rerankProfile)
	if before.code != exitOK || before.stderr != "" {
		t.Fatalf("exit %d, stderr %q", before.code, before.stderr)
	}
	after := runChildEnv(t, []string{withVLLM}, "sweep", rerankProfile, "--dry-run")
	if after.code != exitOK || after.stdout != before.stdout {
		t.Errorf("sweep PROFILE --dry-run: exit %d, output differs from sweep --dry-run PROFILE:\n%s", after.code, after.stdout)
	}
	for _, c := range []string{"cache_on-bucketing_on", "cache_on-bucketing_off", "cache_off-bucketing_on", "cache_off-bucketing_off"} {
		if !strings.Contains(before.stdout, "config") || !strings.Contains(before.stdout, ": "+c+"\n") {
			t.Errorf("dry run does not list config %s", c)
		}
	}
	if n := strings.Count(before.stdout, "  vllm serve /models/Qwen3-Reranker-0.6B \\\n"); n != 4 {
		t.Errorf("dry run prints %d vllm serve commands, want 4", n)
	}
	// Nothing ran: no default results directory appeared.
	if _, err := os.Stat("results"); os.IsNotExist(resultsBefore) && !os.IsNotExist(err) {
		t.Error("the dry run created a results directory")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, filepath.Join("testdata", "dry-run-rerank.golden"), []byte(strings.ReplaceAll(before.stdout, root, "$REPO")))

	// Without vllm the dry run still prints the plan, then fails the
	// pre-flight with the sweep's own message and status.
	noVLLM := []string{"PATH=" + t.TempDir()}
	dry := runChildEnv(t, noVLLM, "sweep", "--dry-run", rerankProfile)
	sweep := runChildEnv(t, noVLLM, "sweep", rerankProfile)
	if dry.code != exitUsage || sweep.code != exitUsage || dry.stderr != sweep.stderr || !strings.Contains(dry.stderr, `"vllm" is not in PATH`) {
		t.Errorf("without vllm: dry run exit %d, stderr %q; sweep exit %d, stderr %q; want both 2 with the same message", dry.code, dry.stderr, sweep.code, sweep.stderr)
	}
	if plan, _, _ := strings.Cut(before.stdout, "\n# pre-flight passed"); dry.stdout != plan {
		t.Errorf("without vllm the dry run does not print the plan:\n%s", dry.stdout)
	}

	// With --simulate the commands run loadgen's own simulator.
	sim := runCLI(t, "sweep", rerankProfile, "--dry-run", "--simulate")
	if sim.code != exitOK || strings.Count(sim.stdout, " sim serve /models/Qwen3-Reranker-0.6B") != 4 || strings.Contains(sim.stdout, "vllm serve /models") ||
		!strings.Contains(sim.stdout, "\n# pre-flight passed: ") {
		t.Errorf("--simulate --dry-run: exit %d, output:\n%s", sim.code, sim.stdout)
	}
}

// fakeVLLM returns a directory holding an executable named vllm, for
// commands that only look it up on PATH.
func fakeVLLM(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vllm"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runChildEnv runs loadgen as a child process with env added to its
// environment (for commands that start no server), bounded by a safety
// timeout.
func runChildEnv(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) || ctx.Err() != nil {
		t.Fatalf("loadgen %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// TestBadInput checks that bad flags, arguments and profiles exit 2 with a
// one-line message and start nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// One error: a typo in a key (line 9).
	badProfile := servertest.WriteProfile(t, "bad", "")
	text, err := os.ReadFile(badProfile)
	if err != nil {
		t.Fatal(err)
	}
	text = []byte(strings.Replace(string(text), "  max_num_seqs: 2\n", "  max_num_seqz: 2\n", 1))
	if err := os.WriteFile(badProfile, text, 0o644); err != nil {
		t.Fatal(err)
	}
	// A dataset row with 2 of the 4 documents the profile scores (line 3).
	shortRows := servertest.WriteProfile(t, "short", "")
	short := strings.Replace(servertest.TinyCSV, "How do claims work?,You file a claim with your insurer.,Claims need documentation.,An adjuster reviews the claim.,Payment follows approval.",
		"How do claims work?,You file a claim with your insurer.,Claims need documentation.,,", 1)
	if err := os.WriteFile(filepath.Join(filepath.Dir(shortRows), "q.csv"), []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // regular expression the one stderr line matches
	}{
		// A bad dataset row is found before any server starts (no compile
		// wasted), named by file and line.
		{"short dataset row", append([]string{"sweep", shortRows}, simArgs...), `q\.csv:3: .*2 of 4 documents`},
		// The phase built from run's flags is checked before anything
		// starts: inf needs a cap.
		{"run inf without a cap", []string{"run", "--simulate", "--arrival", "inf", "--queries", "3"}, `max_concurrency|MaxConcurrency|concurrency`},
		// A sync phase has no rate.
		{"run sync with a rate", []string{"run", "--simulate", "--arrival", "sync", "--rate", "5"}, `^loadgen: --rate: a sync phase .* so it has no rate: remove --rate$`},
		// A typo in a profile key names the file and line.
		{"bad profile", []string{"sweep", "--dry-run", badProfile}, `^loadgen: .*bad\.yaml:9: base\.max_num_seqz: unknown key; did you mean max_num_seqs\?$`},
		// The same error when the sweep would run.
		{"bad profile, no dry run", []string{"sweep", "--simulate", badProfile}, `^loadgen: .*bad\.yaml:9: `},
		// A profile path that does not exist is named.
		{"missing profile", []string{"sweep", "--dry-run", filepath.Join(dir, "nope.yaml")}, `^loadgen: .*nope\.yaml`},
		// urfave's flag error, as one line.
		{"unknown flag", []string{"sweep", "--bogus", rerankProfile}, `^loadgen: flag provided but not defined: -bogus$`},
		// A flag after the profile is still checked.
		{"unknown flag after the profile", []string{"sweep", rerankProfile, "--bogus"}, `-bogus`},
		// One sweep per run of loadgen.
		{"two profiles", []string{"sweep", rerankProfile, rerankProfile}, `one profile at a time`},
		// A value flag without its value must not swallow the profile
		// (which left the shipped profile to run).
		{"flag without value after the profile", []string{"sweep", badProfile, "--dry-run", "--out"}, `one profile at a time`},
		// Alone, urfave names the flag.
		{"flag without value", []string{"sweep", "--out"}, `flag needs an argument: -out`},
		// --only names a config the profile does not have.
		{"--only unknown config", []string{"sweep", "--dry-run", "--only", "nope", rerankProfile}, `--only: no config named "nope" in profile rerank; its configs are cache_on-bucketing_on, `},
		// A typo gets a did-you-mean, also when the sweep would run.
		{"--only typo", []string{"sweep", "--simulate", "--only", "cache_on-bucketng_on", rerankProfile}, `"cache_on-bucketng_on" \(did you mean cache_on-bucketing_on\?\)`},
		// An empty name in the list is a mistake, not "every config".
		{"--only empty name", []string{"sweep", "--dry-run", "--only", "cache_on-bucketing_on,", rerankProfile}, `--only "cache_on-bucketing_on,": an empty name`},
		// selftest's figures are checked before anything is measured.
		{"selftest --only typo", []string{"selftest", "--only", "acuracy"}, `^loadgen: --only: unknown name "acuracy"; did you mean accuracy\?; the names are accuracy, schedule, capacity, memory$`},
		// A flag typo gets a did-you-mean.
		{"flag typo", []string{"sweep", "--simulte", rerankProfile}, `^loadgen: flag provided but not defined: -simulte; did you mean --simulate\?$`},
		// An API key given on the command line for a server loadgen
		// launches is refused (its key comes from server.api_key_env).
		{"--api-key with a launched server", []string{"run", "--simulate", "--api-key", "k"}, `an API key is for a server loadgen does not start`},
		// A directory without manifest.json cannot be resumed.
		{"--resume without a sweep there", []string{"sweep", "--resume", dir}, `--resume`},
		// --resume continues in its own directory.
		{"--resume and --out disagree", []string{"sweep", "--resume", dir, "--out", filepath.Join(dir, "x")}, `disagree`},
		// run needs a server: a URL, or the simulator.
		{"run without --url or --simulate", []string{"run"}, `exactly one of --url URL .* or --simulate`},
		// …not both.
		{"run with both", []string{"run", "--url", "http://127.0.0.1:1", "--simulate"}, `exactly one of`},
		// run takes flags only.
		{"run positional", []string{"run", "--simulate", "x"}, `unexpected argument "x"`},
		// A rate is a number or inf…
		{"run rate not a number", []string{"run", "--simulate", "--rate", "fast", "--queries", "1"}, `^loadgen: --rate: want queries per second \(a number\) or inf, got "fast"$`},
		// …and positive.
		{"run bad rate", []string{"run", "--simulate", "--rate", "-1", "--queries", "1"}, `^loadgen: --rate: must be positive, got -1$`},
		// A share of capacity needs an inf phase before it, which run has not…
		{"run a share of capacity", []string{"run", "--simulate", "--rate", "75%", "--queries", "1"}, `^loadgen: --rate: 75% is a share of the capacity an earlier inf phase measures`},
		// …nor when it runs one phase of the profile.
		{"run --phase with a share of capacity", []string{"run", "--simulate", "--phase", "poisson-75pct"}, `--phase: phase poisson-75pct: its rate is a share of the capacity phase inf-c4 measures`},
		// The dry run fails the same pre-flight as the sweep.
		{"short dataset row, dry run", append([]string{"sweep", "--dry-run", shortRows}, simArgs...), `q\.csv:3: .*2 of 4 documents`},
		// The requests log would go into a directory removed at exit.
		{"run --requests-log without --out", []string{"run", "--simulate", "--requests-log"}, `needs --out`},
		// report needs the results directory.
		{"report without a directory", []string{"report"}, `want one results directory`},
		// compare needs --offline PATH DIR, or two directories.
		{"compare one directory", []string{"compare", dir}, `two results directories`},
		// A shard is I/N, counting from 0.
		{"--shard out of range", []string{"sweep", "--dry-run", "--shard", "2/2", rerankProfile}, `^loadgen: --shard "2/2": want I/N, .*: I must be 0 to 1$`},
		// --continue needs the directory it continues.
		{"--continue without --out", []string{"sweep", "--continue", rerankProfile}, `--continue goes with --out DIR`},
		// merge needs an output and inputs.
		{"merge without inputs", []string{"merge", dir}, `want OUT and at least one results directory`},
		// An input that holds no sweep is refused (exit 2).
		{"merge of a directory without results", []string{"merge", filepath.Join(dir, "m"), dir}, `^loadgen: results cannot be merged: .*read manifest`},
		// The manifests need an image.
		{"k8s without an image", []string{"k8s", rerankProfile}, `^loadgen: k8s: --image IMAGE is required`},
		// A phase's clients need the server and the phase.
		{"k8s --url without --phase", []string{"k8s", "--image", "i", "--url", "http://x:8000", rerankProfile}, `--url and --phase go together`},
		// More shards than configurations would idle.
		{"k8s too many shards", []string{"k8s", "--image", "i", "--shards", "5", "--out", filepath.Join(dir, "k"), rerankProfile}, `--shards 5: the sweep has 4 configuration\(s\)`},
		// An unknown command is bad input, with a did-you-mean.
		{"unknown command", []string{"swep"}, `^loadgen: unknown command "swep"; did you mean sweep\?; the commands are sweep, run, report, compare, sim, selftest, doctor, merge, k8s$`},
		// …also as a help topic…
		{"unknown help topic", []string{"help", "swep"}, `unknown command "swep"; did you mean sweep\?`},
		// …and below a command that has subcommands.
		{"unknown subcommand", []string{"sim", "serv"}, `^loadgen: sim: unknown command "serv"; did you mean serve\?; the commands are serve, check-search$`},
		// The simulator rejects flags as vLLM's argparse does (exit 2).
		{"simulator argparse error", []string{"sim", "serve", "m", "--bogus"}, `unrecognized arguments: --bogus`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tc.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if !regexp.MustCompile(tc.want).MatchString(last) {
				t.Errorf("last stderr line %q does not match %q", last, tc.want)
			}
			if tc.args[0] != "sim" && len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), r.stderr)
			}
		})
	}
}

func TestInterspersed(t *testing.T) {
	t.Parallel()
	app := newApp(os.Stdout, os.Stderr, new(server.Owner), nil)
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		// Nothing to move.
		{"no command", []string{"loadgen"}, []string{"loadgen"}},
		// Flags already first stay as they are.
		{"flags first", []string{"loadgen", "sweep", "--simulate", "p.yaml"}, []string{"loadgen", "sweep", "--simulate", "p.yaml"}},
		// A boolean flag after the profile moves before it.
		{"bool after", []string{"loadgen", "sweep", "p.yaml", "--dry-run"}, []string{"loadgen", "sweep", "--dry-run", "p.yaml"}},
		// A value flag takes its value along.
		{"value after", []string{"loadgen", "sweep", "p.yaml", "--out", "d", "--simulate"}, []string{"loadgen", "sweep", "--out", "d", "--simulate", "p.yaml"}},
		// name=value is one argument.
		{"inline value", []string{"loadgen", "sweep", "p.yaml", "--out=d"}, []string{"loadgen", "sweep", "--out=d", "p.yaml"}},
		// A single dash works as well as two.
		{"single dash", []string{"loadgen", "sweep", "p.yaml", "-port", "9"}, []string{"loadgen", "sweep", "-port", "9", "p.yaml"}},
		// Everything after -- is positional.
		{"double dash", []string{"loadgen", "sweep", "--simulate", "--", "--odd.yaml", "--dry-run"}, []string{"loadgen", "sweep", "--simulate", "--", "--odd.yaml", "--dry-run"}},
		// "-" (stdin) is positional.
		{"lone dash", []string{"loadgen", "report", "-", "--check"}, []string{"loadgen", "report", "--check", "-"}},
		// A value flag at the end without its value stays behind the
		// profile: moved before it, it would take the profile as its value.
		{"missing value", []string{"loadgen", "sweep", "p.yaml", "--dry-run", "--out"}, []string{"loadgen", "sweep", "--dry-run", "p.yaml", "--out"}},
		// Alone, it is left for urfave to reject.
		{"missing value, no profile", []string{"loadgen", "sweep", "--out"}, []string{"loadgen", "sweep", "--out"}},
		// Two positionals keep their order.
		{"two positionals", []string{"loadgen", "compare", "a", "--json", "b"}, []string{"loadgen", "compare", "--json", "a", "b"}},
		// The simulator parses vLLM's flags itself: untouched.
		{"sim serve", []string{"loadgen", "sim", "serve", "m", "--port", "1"}, []string{"loadgen", "sim", "serve", "m", "--port", "1"}},
		// Unknown commands are left for urfave to report.
		{"unknown command", []string{"loadgen", "swep", "p.yaml", "--x"}, []string{"loadgen", "swep", "p.yaml", "--x"}},
		// Unknown flags move like known boolean ones.
		{"unknown flag", []string{"loadgen", "sweep", "p.yaml", "--bogus"}, []string{"loadgen", "sweep", "--bogus", "p.yaml"}},
	} {
		if got := interspersed(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: interspersed(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestDoctorExit checks `loadgen doctor`'s exit status: 1 when a sweep
// cannot start (no vllm, no neuron-ls on PATH), one line per finding, and
// 2 for bad input. The findings themselves are tested in package server
// with stand-in programs.
func TestDoctorExit(t *testing.T) {
	t.Parallel()
	r := runChildEnv(t, []string{"PATH=" + t.TempDir()}, "doctor", rerankProfile)
	if r.code != exitFailed || !strings.Contains(r.stdout, "FAIL  \"vllm\" is not in PATH") || !strings.Contains(r.stdout, "FAIL  cannot list the NeuronCores") {
		t.Errorf("doctor without vllm: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !regexp.MustCompile(`^(ok  |note|warn|FAIL)  \S`).MatchString(line) {
			t.Errorf("not a finding line: %q", line)
		}
	}
	if r := runChildEnv(t, nil, "doctor", rerankProfile, rerankProfile); r.code != exitUsage {
		t.Errorf("doctor with two profiles: exit %d, want %d", r.code, exitUsage)
	}
}
