package neuron

import (
	"fmt"
	"slices"
	"strings"
)

// Stack is one supported software stack: a Neuron SDK release with the
// vllm-neuron plugin, vLLM and NxDI versions that ship together, and what
// they do.
type Stack struct {
	// Name is how profiles, flags and manifests name the stack ("2.27").
	Name string
	// SDK, Plugin, VLLM and NxDI are the versions that make up the stack.
	SDK, Plugin, VLLM, NxDI string
	// NxDIRef is the NxDI tag the key lists were read from.
	NxDIRef string
	// Venv is the DLAMI virtualenv that ships vLLM with this stack, ""
	// when that DLAMI has none.
	Venv string

	accepted, late, derived, moe map[string]bool
	// warningLine is the line of NeuronConfig.__init__ that logs
	// "Unexpected keyword arguments" (models/config.py at NxDIRef).
	warningLine int

	// Quirks are what this stack does that a user would not expect, one
	// line each with its source; loadgen doctor prints them.
	Quirks []Quirk
}

// Quirk is one known behaviour of a stack, with where it comes from.
type Quirk struct {
	Text   string
	Source string
}

// DefaultName is the stack loadgen assumes when none is named or detected:
// the one the offline benchmark most likely ran. Its host used the DLAMI
// virtualenv /opt/aws_neuronx_venv_pytorch_inference_vllm, which the Neuron
// docs list first for SDK 2.27 ("vLLM 0.11.0 NxD Inference"; aws-neuron/
// aws-neuron-sdk @25f2750c dlami/index.rst L78–79); the SDK 2.26 and 2.26.1
// DLAMIs have no vLLM virtualenv (@8a38e733 dlami/index.rst L115–135,
// @1514f016 L60–75).
const DefaultName = "2.27"

// commonQuirks hold for plugin 0.2.x on vLLM 0.11.0 with NxDI 2.26 and 2.27.
var commonQuirks = []Quirk{
	{"the plugin replaces --max-num-batched-tokens with 131072 under its custom scheduler (the message says it can be overridden; it cannot)",
		"vllm-project/vllm-neuron 0.2.0 vllm_neuron/platform.py L187–193 (same in 0.2.2+lts L220–282)"},
	{"without prefix caching the plugin sets the KV block size to max_model_len, so --block-size and pa_block_size change nothing",
		"vllm-project/vllm-neuron 0.2.0 vllm_neuron/platform.py L203–207"},
	{"vLLM 0.11 turns prefix caching on unless --no-enable-prefix-caching is given, and the plugin then asserts --block-size is set; loadgen always passes one of the two flags",
		"vllm-project/vllm v0.11.0 vllm/engine/arg_utils.py L1555–1556; vllm-neuron 0.2.0 vllm_neuron/platform.py L209–210"},
	{"on-device sampling is the plugin's default and returns no logprobs: a request that asks for logprobs fails with \"list index out of range\" (HTTP 500, or an error event in a stream); loadgen sets on_device_sampling_config: null",
		"vllm-neuron 0.2.0 vllm_neuron/worker/neuronx_distributed_model_loader.py L731–732, L367–375; vllm v0.11.0 vllm/entrypoints/openai/serving_completion.py L625"},
	{"reusing compiled artifacts logs \"Using pre-compiled artifacts, override_neuron_config will be ignored\" on every start that passes overrides, and the saved neuron_config.json wins over the flags",
		"vllm-neuron 0.2.0 vllm_neuron/worker/neuronx_distributed_model_loader.py L214–226"},
	{"reusing compiled artifacts rebuilds NeuronConfig from neuron_config.json, which logs \"Unexpected keyword arguments\" for the attributes NxDI derives itself (is_prefill_stage, kv_cache_tiling, tile_cc, …); loadgen records it as a note",
		"aws-neuron/neuronx-distributed-inference models/config.py to_dict/from_json_string (v0.6.10598 L71–86, L737–745; v0.7.14366 L59, L850)"},
	{"without NEURON_COMPILED_ARTIFACTS the plugin deletes its artifacts directory and recompiles on every start",
		"vllm-neuron 0.2.0 vllm_neuron/worker/neuronx_distributed_model_loader.py L196–212"},
}

// stacks is the table, oldest first.
var stacks = []*Stack{
	{
		// source: vllm-project/vllm-neuron 0.2.0 requirements (vllm==0.11.0),
		// README L7, L11 ("AWS Neuron SDK 2.26.1"); NxDI release notes
		// aws-neuron/aws-neuron-sdk @25f2750c
		// release-notes/prev/2.26.0/nxd-inference.rst L11 (Version 0.6.10598).
		Name: "2.26", SDK: "2.26.1", Plugin: "0.2.0", VLLM: "0.11.0", NxDI: "0.6.10598", NxDIRef: "v0.6.10598",
		accepted: set(keysAccepted226), late: set(keysLate226), derived: set(keysDerived226), moe: set(keysMoE226),
		warningLine: 471,
		Quirks: append([]Quirk{
			{"NeuronConfig pops skip_warmup, apply_seq_ids_mask, scratchpad_page_size and enable_output_completion_notifications after its unknown-key check, so passing any of them (loadgen always passes skip_warmup) logs \"Unexpected keyword arguments\" although they are applied; loadgen records it as a note",
				"aws-neuron/neuronx-distributed-inference v0.6.10598 models/config.py L471–493"},
			{"the SDK 2.26 DLAMI has no vLLM virtualenv: vllm-neuron 0.2.0 is installed by hand, e.g. into /opt/aws_neuronx_venv_pytorch_2_8_nxd_inference",
				"aws-neuron/aws-neuron-sdk @1514f016 dlami/index.rst L60–75"},
		}, commonQuirks...),
	},
	{
		// source: vllm-neuron release 0.2.2+lts README ("Plugin Version:
		// 0.2.2+lts / Neuron SDK Version: 2.27.0 / vLLM Version: 0.11.0");
		// aws-neuron/aws-neuron-sdk @25f2750c
		// libraries/nxd-inference/developer_guides/vllm-user-guide-v1.rst L23
		// and dlami/index.rst L78–79.
		Name: "2.27", SDK: "2.27.0", Plugin: "0.2.2+lts", VLLM: "0.11.0", NxDI: "0.7.14366", NxDIRef: "v0.7.14366",
		Venv:     "/opt/aws_neuronx_venv_pytorch_inference_vllm",
		accepted: set(keysAccepted227), derived: set(keysDerived227), moe: set(keysMoE227),
		warningLine: 563,
		Quirks: append([]Quirk{
			{"the plugin source on GitHub is not compatible with SDK 2.27: use the DLAMI virtualenv /opt/aws_neuronx_venv_pytorch_inference_vllm",
				"aws-neuron/aws-neuron-sdk @25f2750c release-notes/2.27.0/nxd-inference.rst L41"},
			{"the plugin README's CLI example writes \"override-neuron-config\"; the plugin reads only \"override_neuron_config\" and ignores the other",
				"vllm-neuron 0.2.2+lts README L163–170; neuronx_distributed_model_loader.py L689–690 (0.2.0 numbering)"},
			{"additional_config.max_prompt_length (a top-level key, not an override_neuron_config key) makes the API reject longer prompts with HTTP 400",
				"vllm-neuron 0.2.2+lts vllm_neuron/platform.py L217–218, platform_overrides.py L62–95"},
		}, commonQuirks...),
	},
}

func set(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Names lists the supported stacks, oldest first.
func Names() []string {
	out := make([]string, len(stacks))
	for i, s := range stacks {
		out[i] = s.Name
	}
	return out
}

// Lookup returns the named stack. The error lists the supported names.
func Lookup(name string) (*Stack, error) {
	for _, s := range stacks {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown stack %q: the supported stacks are %s", name, strings.Join(Names(), ", "))
}

// Default returns the default stack (DefaultName).
func Default() *Stack {
	s, err := Lookup(DefaultName)
	if err != nil {
		panic(err) // the table is broken: a programming error
	}
	return s
}

// All returns the supported stacks, oldest first.
func All() []*Stack { return slices.Clone(stacks) }

// String names the stack and its versions, e.g. "2.27 (SDK 2.27.0,
// vllm-neuron 0.2.2+lts, vLLM 0.11.0, NxDI 0.7.14366)".
func (s *Stack) String() string {
	return fmt.Sprintf("%s (SDK %s, vllm-neuron %s, vLLM %s, NxDI %s)", s.Name, s.SDK, s.Plugin, s.VLLM, s.NxDI)
}

// WarningLine is the line of models/config.py at NxDIRef that logs
// "Unexpected keyword arguments".
func (s *Stack) WarningLine() int { return s.warningLine }

// Source names where the stack's NeuronConfig rules come from.
func (s *Stack) Source() string {
	return "aws-neuron/neuronx-distributed-inference " + s.NxDIRef + " src/neuronx_distributed_inference/models/config.py"
}
