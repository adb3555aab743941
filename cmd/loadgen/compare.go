package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen/report"
)

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:  "compare",
		Usage: "compare online results with the offline benchmark, or two sweeps with each other",
		ArgsUsage: "--offline PATH RESULTS_DIR   (offline <name>.json files or their directory)\n" +
			"   or: loadgen compare A_DIR B_DIR      (B against baseline A: per-metric deltas)",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "offline", Usage: "offline benchmark result `PATH` (a directory of <name>.json or files; repeatable)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of Markdown"},
		},
		Action: func(c *cli.Context) error {
			if off := c.StringSlice("offline"); len(off) > 0 {
				if c.NArg() != 1 {
					return usagef("compare --offline: want one results directory, got %d arguments", c.NArg())
				}
				results, err := report.LoadOffline(off...)
				if err != nil {
					return asUsage(err)
				}
				s, err := report.Load(c.Args().First())
				if err != nil {
					return asUsage(err)
				}
				cmp := report.CompareOffline(results, s)
				if c.Bool("json") {
					return cmp.WriteJSON(c.App.Writer)
				}
				return cmp.WriteMarkdown(c.App.Writer)
			}
			if c.NArg() != 2 {
				return usagef("compare: want --offline PATH RESULTS_DIR, or two results directories A B")
			}
			a, err := report.Load(c.Args().Get(0))
			if err != nil {
				return asUsage(err)
			}
			b, err := report.Load(c.Args().Get(1))
			if err != nil {
				return asUsage(err)
			}
			cmp := report.CompareRuns(a, b)
			if c.Bool("json") {
				err = cmp.WriteJSON(c.App.Writer)
			} else {
				err = cmp.WriteMarkdown(c.App.Writer)
			}
			if err != nil {
				return err
			}
			if cmp.Regressions > 0 {
				fmt.Fprintf(c.App.ErrWriter, "loadgen: compare: %d regression(s) beyond the noise threshold\n", cmp.Regressions)
				return silentError{exitFailed}
			}
			return nil
		},
	}
}
