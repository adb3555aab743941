package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen/merge"
	"loadgen/loadgen/report"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "join result directories (a sweep's shards, a phase's client shares) into one sweep directory",
		ArgsUsage: "OUT DIR...",
		Description: "OUT gets a manifest recording what was merged, every configuration's files, the phases merged\n" +
			"from their clients' shares (histograms added from the .hlog files: percentiles exact within HDR\n" +
			"precision), and the report. Inputs of different profiles, the simulator beside a real server, or\n" +
			"overlapping configurations are refused with exit status 2. `loadgen report`, `compare` and\n" +
			"`sweep --resume OUT` work on the result.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "allow-missing", Usage: "go on without inputs that hold no results, missing shards (their configurations stay pending) and missing client shares (the phase is marked failed)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usagef("merge: want OUT and at least one results directory, got %d arguments", c.NArg())
			}
			args := c.Args().Slice()
			out, dirs := args[0], args[1:]
			res, err := merge.Dirs(out, dirs, merge.Options{AllowMissing: c.Bool("allow-missing")})
			if errors.Is(err, merge.ErrMismatch) {
				return asUsage(err)
			} else if err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintf(c.App.ErrWriter, "loadgen: merge: %s\n", n)
			}
			s, err := report.Load(out)
			if err != nil {
				return err
			}
			for _, p := range s.Problems {
				fmt.Fprintf(c.App.ErrWriter, "loadgen: %s: %s\n", out, p)
			}
			if err := report.Render(out, s); err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "merged %d directories into %s: %d configuration(s), %d phase(s) merged from client shares",
				len(dirs)-res.LeftOut, out, res.Configs, res.MergedPhases)
			if len(res.Pending) > 0 {
				fmt.Fprintf(w, ", %d pending (loadgen sweep --resume %s runs them)", len(res.Pending), out)
			}
			fmt.Fprintf(w, "\nreport: %s/summary.md (and report.html)\n", out)
			return nil
		},
	}
}
