// Package loadgen runs a sweep: for every configuration of a checked plan
// it starts the server (vLLM, or the simulator through the same code path),
// waits through the Neuron compile, runs each load phase, scrapes server
// metrics, stops the server and goes on; then it writes the ranked report.
// It also runs a single phase for `loadgen run`.
//
// Preflight checks a sweep before anything starts (the plan's pre-flight,
// profiles.Plan.Preflight: every phase, every server command, every dataset
// row, read once) and Run runs only what Preflight returns, building every
// configuration's prompts from the dataset pre-flight read.
//
// A phase at a share of capacity (rate: 75%) learns the capacity from the
// stored result of the inf phase before it. A search phase finds the
// configuration's capacity at an SLO: capacitySearch (search.go) is the
// pure search, which picks each trial's rate from the trials so far, and
// the sweep runs the trials as sub-phases with their own files
// (searchrun.go); `loadgen sim check-search` follows each search with a
// brute-force scan of fixed rates (searchscan.go).
//
// Results are written as they are produced, atomically: a crash, a failed
// configuration or Ctrl-C never loses what was already measured, and
// --resume continues where a sweep stopped (a search that did not finish
// starts again from its first trial).
//
// It is the top layer of the library, and the folders below it are the
// layers it is built from; each imports only what is below it in this list:
//
//	loadgen/          the sweep (this package)
//	loadgen/k8s       builds the Kubernetes objects that run a sweep or a phase's clients
//	loadgen/merge     joins result directories: a sweep's shards, a phase's client shares
//	loadgen/report    reads a results directory: summaries, plots, comparisons
//	loadgen/engine    runs one load phase: schedules, dispatcher, client, HDR metrics
//	loadgen/schema    the shared vocabulary and on-disk formats (a leaf)
//	loadgen/jsonscan  the JSON scanner of the hot paths (a leaf; server/sim uses it too)
//
// report and engine do not import each other, and merge (which reads and
// writes only schema's formats) imports neither; k8s imports none of them. Beside them, profiles (the
// plan), server (one server process) and workload (datasets and requests)
// import schema at most; schema, jsonscan and bounded import nothing of
// loadgen's. Every input is read through loadgen/bounded (bounded reads with
// a clear error), which profiles, server and workload share.
package loadgen
