// Package engine is the load engine: it runs one load phase against a
// ready vLLM (or simulated) server and summarises it the way `vllm bench
// serve` does, plus loadgen's own query-level, schedule and quality
// figures.
//
// Run is the entry point. A Phase says how queries arrive (poisson, gamma,
// constant, sync or inf, optionally ramped), how many and under which cap;
// Options say where to send them and where per-request (requests.jsonl)
// and interval (.hlog) outputs go. Arrivals follow an absolute, seeded
// Schedule; a dispatcher sends each query's requests when due; a streaming
// client stamps TTFT and E2E from the SSE stream; one collector goroutine
// owns the HDR histograms and builds the schema.PhaseResult. README.md in this
// directory gives the definitions and the measured fidelity figures.
package engine
