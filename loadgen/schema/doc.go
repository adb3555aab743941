// Package schema is the vocabulary every layer of loadgen shares and the
// on-disk formats of a results directory. It is a leaf: it imports nothing
// of loadgen's, and every other package may import it.
//
// It holds the arrival kinds and Rate (how a phase is paced), the phase
// result (<phase>.json, with `vllm bench serve`'s keys, and loadgen's
// records of a relative rate's basis, a saturated phase's evidence and a
// search for the capacity at an SLO with its trials), the server-side
// metrics of a phase, the startup record of a server (startup.json, with
// its failure classes), the sweep's manifest (manifest.json) and file
// layout, the HdrHistogram interval log (<phase>.hlog: geometry, writer and
// reader), and the one atomic way every result file is written.
//
//	OUT/manifest.json summary.md summary.json summary.csv report.html plots/*.svg
//	OUT/<config>/command.txt server.log startup.json <phase>.json <phase>.hlog
//	OUT/<config>/<phase>.trial-NN.json <phase>.trial-NN.hlog   (a search's trials)
package schema
