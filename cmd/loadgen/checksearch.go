package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/loadgen/schema"
	"loadgen/server"
)

// checkSearchCommand is `loadgen sim check-search`: a simulated sweep in
// which every search phase is followed by its brute-force check, and a
// table of the true capacity at the SLO next to the search's answer.
func checkSearchCommand(servers *server.Owner) *cli.Command {
	return &cli.Command{
		Name:      "check-search",
		Usage:     "check each search for the capacity at an SLO against a brute-force scan of fixed rates (SIMULATED)",
		ArgsUsage: "[PROFILE]   (default: the shipped profiles/rerank.yaml)",
		Description: "Runs the profile's simulated sweep; after each search phase the same server runs fixed-rate\n" +
			"trials of the search's own design on a grid (5% of the upper bound apart from the top down, then\n" +
			"four between the highest pass and the lowest fail), and writes <config>/<phase>.scan.json. Prints,\n" +
			"per config, the true capacity at the SLO (the highest passing rate below the lowest failing one),\n" +
			"the search's answer, their difference against the search's tolerance, and what each cost.\n" +
			"Exit status: 0 every search within its tolerance, 1 otherwise, 2 bad input, 130 interrupted.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "results `DIR`", DefaultText: "results/<profile>-<YYYYmmdd-HHMMSS>"},
			&cli.StringFlag{Name: "only", Usage: "check only these configurations: comma-separated config `NAMES` of the profile"},
		}, simFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("sim check-search: one profile at a time (got %d arguments)", c.NArg())
			}
			p, err := loadProfile(c.Args().First())
			if err != nil {
				return asUsage(err)
			}
			o := loadgen.Options{Profile: p, Simulate: true, Sim: simOptions(c), Out: c.String("out"),
				Progress: c.App.ErrWriter, Version: version, Servers: servers, CheckSearches: true}
			if c.IsSet("only") {
				if o.Only, err = splitList("only", c.String("only"), nil); err != nil {
					return err
				}
			}
			out, err := runSweep(c, o)
			if err != nil {
				return err
			}
			within, err := writeChecks(c.App.Writer, out.Dir, o.Sim.Speed)
			if err != nil {
				return err
			}
			switch {
			case out.Interrupted:
				return silentError{exitInterrupted}
			case !within:
				return silentError{exitFailed}
			}
			return nil
		},
	}
}

// writeChecks prints the checks of a results directory as a Markdown
// table and reports whether every search is within its tolerance. Times
// are simulated seconds: wall seconds × the simulator's speed factor.
func writeChecks(w io.Writer, dir string, speed float64) (bool, error) {
	m, err := schema.ReadManifest(dir)
	if err != nil {
		return false, err
	}
	if speed <= 0 {
		speed = loadgen.DefaultSimSpeed
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSIMULATED check of the capacity-at-SLO searches (%s, simulator speed factor %g: rates as measured, "+
		"times in simulated seconds = wall × %g)\n\n", dir, speed, speed)
	b.WriteString("| config | SLO | true capacity at SLO (q/s) | scan passes–fails | search (q/s) | error | within | search trials | search time (s) | scan trials | scan time (s) |\n")
	b.WriteString("|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|\n")
	all, n := true, 0
	for _, cs := range m.Configs {
		for _, ps := range cs.Phases {
			var chk schema.SearchCheck
			raw, err := os.ReadFile(filepath.Join(dir, schema.ScanFile(cs.Name, ps.Name)))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err == nil {
				err = json.Unmarshal(raw, &chk)
			}
			if err != nil {
				return false, fmt.Errorf("check of %s/%s: %w", cs.Name, ps.Name, err)
			}
			n++
			all = all && chk.Within
			bracket := fmt.Sprintf("%.3f–%.3f", chk.Truth, chk.TruthFail)
			if chk.TruthFail == 0 {
				bracket = fmt.Sprintf("%.3f– (none failed)", chk.Truth)
			}
			if chk.Inversions > 0 {
				bracket += fmt.Sprintf(", %d inversions", chk.Inversions)
			}
			within := "yes"
			if !chk.Within {
				within = "NO"
			}
			scanAside := 0
			for _, t := range chk.Trials {
				if t.Discarded {
					scanAside++
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %.3f | %s | %.3f | %+.1f%% | %s | %s | %.0f | %s | %.0f |\n",
				cs.Name, chk.SLO, chk.Truth, bracket, chk.Search, 100*chk.Error, within,
				trialCount(chk.SearchTrials, chk.SearchSetAside), chk.SearchSeconds*speed,
				trialCount(len(chk.Trials), scanAside), chk.Seconds*speed)
		}
	}
	if n == 0 {
		return false, fmt.Errorf("%s: no search was checked (does the profile have a search phase, and did it finish?)", dir)
	}
	_, err = io.WriteString(w, b.String())
	return all, err
}

// trialCount renders the trials used, and those set aside: "4 (+2 set
// aside)".
func trialCount(all, aside int) string {
	if aside == 0 {
		return fmt.Sprint(all)
	}
	return fmt.Sprintf("%d (+%d set aside)", all-aside, aside)
}
