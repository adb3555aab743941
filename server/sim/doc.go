// Package sim is a simulated vllm-neuron server: a digital twin of
// `vllm serve` running a Qwen3-Reranker on AWS Inferentia2 through the
// vllm-neuron plugin. It accepts the same argv as `vllm serve`, serves vLLM's
// OpenAI-compatible HTTP API with vLLM's JSON shapes, and reproduces the
// Neuron behaviours a load generator has to cope with: a compile delay that
// grows with the number of buckets and is skipped when
// NEURON_COMPILED_ARTIFACTS holds this configuration's artifacts, one
// prefill per engine step, padding to context-encoding buckets, the cost of
// prefix caching, the failure of logprob requests under on-device sampling,
// and the known startup and engine failures. What the stack does is read
// from package neuron's table, for the stack chosen with --sim-stack.
//
// Time is simulated by one engine goroutine that keeps a timeline: each
// engine step's start is the previous step's end (or the arrival that woke
// an idle engine), its duration comes from the latency model in latency.go
// (divided by the speed factor), and the engine sleeps until the step's end
// with a timer, so timer lateness never accumulates. Everything random
// (jitter, fault injection, sampling) is drawn from one seeded source in
// arrival order, so a run is reproducible given --sim-seed and the order in
// which requests arrive.
//
// Entry points: Main implements `loadgen sim serve MODEL [vllm serve flags]`;
// ParseArgs, New and Server.Handler build a server in-process for tests;
// Server.Stats is the simulator's own record of what it did and when, the
// ground truth against which loadgen's measurements are checked.
package sim
