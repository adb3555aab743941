package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen/report"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "re-render summary.md/json/csv, plots and report.html from stored results",
		ArgsUsage: "RESULTS_DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "exit 1 if any stored result is missing or does not parse"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("report: want one results directory, got %d arguments", c.NArg())
			}
			dir := c.Args().First()
			s, err := report.Load(dir)
			if err != nil {
				return asUsage(err)
			}
			for _, p := range s.Problems {
				fmt.Fprintf(c.App.ErrWriter, "loadgen: %s: %s\n", dir, p)
			}
			if err := report.Render(dir, s); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s/summary.md, summary.json, summary.csv, report.html and plots/\n", dir)
			if c.Bool("check") && len(s.Problems) > 0 {
				return fmt.Errorf("report --check: %d problem(s) in %s", len(s.Problems), dir)
			}
			return nil
		},
	}
}
