// Package neuron is loadgen's one table of what the supported vllm-neuron
// stacks do: for each stack (a Neuron SDK release with its vllm-neuron
// plugin, vLLM and NxDI versions) the NeuronConfig fields NxDI accepts, the
// keys it pops late or derives itself, its bucket rules, the plugin's block
// math and the vLLM flags it overrides, the log lines they print and what
// they mean, and the known quirks. Every entry names the upstream
// repository, path and version it was read from.
//
// Pre-flight (package profiles), the log classifier (package server) and
// the simulator (package server/sim) all read this table, so nothing about
// Neuron is decided in two places. It is a leaf: it imports nothing of
// loadgen's.
//
// Upstream revisions the table was read from:
//
//   - NxDI 2.26: aws-neuron/neuronx-distributed-inference tag v0.6.10598
//     (commit e07f0567ad8b, "Neuron SDK Release 2.26.0 changes").
//   - NxDI 2.27: the same repository, tag v0.7.14366 (commit fcb5a8688d23,
//     "Neuron SDK Release 2.27.0").
//   - plugin 0.2.0: vllm-project/vllm-neuron tag 0.2.0 (commit a96712544a52).
//   - plugin 0.2.2+lts: release "0.2.2+lts" of vllm-project/vllm-neuron, read
//     from its published tree (commit ad82965 "Release 0.2.2+lts compatible
//     with Neuron SDK 2.27.0 and vLLM 0.11.0").
//   - vLLM 0.11.0: vllm-project/vllm tag v0.11.0 (commit b8b302cde434).
//   - NxD core: aws-neuron/neuronx-distributed tags v2.26.0 and v2.27.0
//     (the "Generating HLOs"/compilation log lines).
//   - Neuron docs: aws-neuron/aws-neuron-sdk at 25f2750c ("Docs Update
//     v2.27") and 1514f016 (2.26.1): DLAMI virtualenvs, release notes.
//
// Source comments below say "NxDI <tag> <path> L<n>" (path relative to
// src/neuronx_distributed_inference/), "plugin <tag> <path> L<n>" (relative
// to vllm_neuron/) and "vLLM v0.11.0 <path>" (relative to vllm/).
package neuron
