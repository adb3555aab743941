package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
)

func sweepCommand(servers *server.Owner, hard *loadgen.HardStop) *cli.Command {
	return &cli.Command{
		Name:      "sweep",
		Usage:     "run every configuration of a profile and write a ranked report",
		ArgsUsage: "[PROFILE]   (default: the shipped profiles/rerank.yaml)",
		Description: "For each configuration: start the server, wait for it through the Neuron compile, run every\n" +
			"load phase, scrape server metrics, stop it; then write summary.md/json/csv, plots and report.html.\n" +
			"Exit status: 0 all configurations passed, 1 some failed, 2 bad input, 130 interrupted.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "simulate", Usage: "run against loadgen's simulated vllm-neuron instead of vllm serve (every output says SIMULATED)"},
			&cli.StringFlag{Name: "out", Usage: "results `DIR`", DefaultText: "results/<profile>-<YYYYmmdd-HHMMSS>"},
			&cli.StringFlag{Name: "only", Usage: "run only these configurations: comma-separated config `NAMES` of the profile"},
			&cli.StringFlag{Name: "resume", Usage: "continue the sweep in `DIR`: run only configurations and phases that are missing or failed"},
			&cli.StringFlag{Name: "shard", Usage: "run only shard `I/N` of the configurations (sorted by name, dealt in turn; 0-based): `loadgen merge` joins the shards"},
			&cli.BoolFlag{Name: "continue", Usage: "with --out DIR: continue the sweep recorded in DIR if there is one (as --resume), else start it there"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print each configuration's exact command, environment and warnings; start nothing"},
			&cli.IntFlag{Name: "port", Usage: "server `PORT`", DefaultText: "the profile's; a free port with --simulate", EnvVars: envVars("port")},
			&cli.BoolFlag{Name: "requests-log", Usage: "also write every request to <config>/<phase>.requests.jsonl"},
			&cli.DurationFlag{Name: "drain", Value: loadgen.DefaultDrain, Usage: "after Ctrl-C, how long in-flight requests may finish"},
			apiKeyFlag(),
		}, simFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("sweep: one profile at a time (got %d arguments)", c.NArg())
			}
			o := loadgen.Options{
				Simulate:    c.Bool("simulate"),
				Sim:         simOptions(c),
				Out:         c.String("out"),
				Port:        c.Int("port"),
				RequestsLog: c.Bool("requests-log"),
				Drain:       c.Duration("drain"),
				Progress:    c.App.ErrWriter,
				Version:     version,
				Servers:     servers,
				HardStop:    hard,
			}
			if c.IsSet("only") {
				only, err := splitList("only", c.String("only"), nil) // the plan checks the names
				if err != nil {
					return err
				}
				o.Only = only
			}
			if c.IsSet("shard") {
				part, err := schema.ParsePart(c.String("shard"))
				if err != nil {
					return usagef("--shard %w", err)
				}
				o.Shard = &part
			}
			if c.Bool("continue") {
				if o.Out == "" || c.IsSet("resume") {
					return usagef("sweep: --continue goes with --out DIR (and not with --resume): it resumes DIR if it holds a sweep, else starts one there")
				}
				o.Continue = true
			}
			path := c.Args().First()
			if dir := c.String("resume"); dir != "" {
				if o.Out != "" && o.Out != dir {
					return usagef("sweep: --resume %s and --out %s disagree: --resume continues in its own directory", dir, o.Out)
				}
				o.Resume, o.Out = true, dir
				if path == "" {
					m, err := schema.ReadManifest(dir)
					if err != nil {
						return asUsage(fmt.Errorf("sweep --resume: %w", err))
					}
					path = m.ProfilePath
				}
			}
			p, err := loadProfile(path)
			if err != nil {
				return asUsage(err)
			}
			if o.APIKey, err = apiKey(c, p); err != nil {
				return err
			}
			o.Profile = p
			if c.Bool("dry-run") {
				// The plan, then the very pre-flight the sweep runs.
				return asUsageIf(loadgen.DryRun(o, c.App.Writer))
			}
			out, err := runSweep(c, o)
			if out != nil {
				printOutcome(c.App.Writer, c.App.ErrWriter, out)
			}
			if err != nil {
				return err
			}
			switch {
			case out.Interrupted:
				return silentError{exitInterrupted}
			case out.Failed > 0 || len(out.WriteErrors) > 0:
				return silentError{exitFailed}
			}
			return nil
		},
	}
}

// runSweep runs the sweep o describes: pre-flight, then the sweep. Bad
// input found by either is a usage error (exit 2). An outcome comes back
// also with an error when the sweep ran but could not finish its report.
func runSweep(c *cli.Context, o loadgen.Options) (*loadgen.Outcome, error) {
	checked, err := loadgen.Preflight(o)
	if err != nil {
		return nil, asUsageIf(err)
	}
	out, err := loadgen.Run(c.Context, checked)
	return out, asUsageIf(err)
}

// loadProfile loads a profile file, or a shipped profile ("" is the shipped
// rerank.yaml; "shipped:NAME" names one).
func loadProfile(path string) (*profiles.Profile, error) {
	switch {
	case path == "":
		return profiles.LoadShipped(profiles.DefaultShipped)
	case strings.HasPrefix(path, "shipped:"):
		return profiles.LoadShipped(strings.TrimPrefix(path, "shipped:"))
	}
	return profiles.Load(path)
}

// printOutcome tells the user how the sweep went and where its results
// are, from what the sweep holds (out.Sweep: a failed write may have kept
// manifest.json behind it), claiming only what exists: the last line names
// the report only when it was written.
func printOutcome(w, errw io.Writer, out *loadgen.Outcome) {
	for _, p := range out.Problems {
		fmt.Fprintf(errw, "loadgen: results: %s\n", p)
	}
	for _, f := range out.WriteErrors {
		fmt.Fprintf(errw, "loadgen: WRITE FAILED: %s\n", f)
	}
	if out.Sweep != nil {
		fmt.Fprintln(w)
		_ = out.Sweep.Summary().WriteRanking(w)
	}
	state := "done"
	if out.Interrupted {
		state = "interrupted"
	}
	counts := fmt.Sprintf("%d passed, %d failed", out.Passed, out.Failed)
	if out.InterruptedConfigs > 0 {
		counts += fmt.Sprintf(", %d interrupted", out.InterruptedConfigs)
	}
	where := fmt.Sprintf("report: %s (and report.html)", out.Report)
	if out.Report == "" {
		where = fmt.Sprintf("no report was written (results in %s; render it with: loadgen report %s)", out.Dir, out.Dir)
	}
	if n := len(out.WriteErrors); n > 0 {
		where += fmt.Sprintf("; %d file(s) could not be written, see above", n)
	}
	fmt.Fprintf(w, "\nsweep %s: %s, %d not run — %s\n", state, counts, out.Skipped, where)
	if out.Interrupted {
		fmt.Fprintf(w, "continue it with: loadgen sweep --resume %s\n", out.Dir)
	}
}
