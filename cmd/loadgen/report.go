package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
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
			// A sweep writing into dir renders its own report: refuse to
			// write beside it (and read what it is halfway through).
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				lock, err := schema.LockDir(dir)
				if err != nil {
					return asUsage(fmt.Errorf("report: %w", err))
				}
				defer lock.Unlock()
			}
			s, err := report.Load(dir)
			switch {
			case errors.Is(err, report.ErrUnreadable):
				return err // stored results that do not parse: exit 1
			case err != nil:
				return asUsage(err)
			}
			problems := s.Problems
			if c.Bool("check") {
				problems = s.Check()
			}
			for _, p := range problems {
				fmt.Fprintf(c.App.ErrWriter, "loadgen: %s: %s\n", dir, p)
			}
			if err := report.Render(dir, s); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s/summary.md, summary.json, summary.csv, report.html and plots/\n", dir)
			if c.Bool("check") && len(problems) > 0 {
				return fmt.Errorf("report --check: %d problem(s) in %s", len(problems), dir)
			}
			return nil
		},
	}
}
