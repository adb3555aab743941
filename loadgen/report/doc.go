// Package report turns a sweep's results directory into what people read:
// summary.md (the offline benchmark's ranking table first, with each
// config's capacity at the SLO, then the searches for it, the online tables
// and a recommendation), summary.json and summary.csv with the same
// numbers, SVG plots and one self-contained report.html. It also compares a
// sweep with the offline benchmark's result files and with another sweep.
//
// It reads the results directory through package schema, which owns the
// on-disk formats, and imports nothing else of loadgen's. Layout of a
// results directory:
//
//	OUT/manifest.json summary.md summary.json summary.csv report.html plots/*.svg
//	OUT/<config>/command.txt server.log startup.json <phase>.json <phase>.hlog
//
// Typical use by the CLI:
//
//	s, err := report.Load(dir)      // tolerant of partial and failed sweeps
//	...
//	err = report.Render(dir, s)     // summary.*, plots/, report.html
//
//	off, err := report.LoadOffline("testdata/offline-inf2-xlarge")
//	c := report.CompareOffline(off, s)
//	c.WriteMarkdown(os.Stdout)
//
//	report.CompareRuns(a, b).WriteMarkdown(os.Stdout)
package report
