package profiles

import (
	"slices"
	"strings"

	"loadgen/server/neuron"
)

// aliases maps names people reach for (vLLM flag spellings, the offline
// benchmark's JSON keys, vegeta/vllm-bench options) to the profile key.
var aliases = map[string]string{
	"tp":                        "tensor_parallel_size",
	"tp_degree":                 "tensor_parallel_size",
	"prefix_caching":            "enable_prefix_caching",
	"apc":                       "enable_prefix_caching",
	"bucketing":                 "enable_bucketing",
	"num_gpu_blocks_override":   "pa_num_blocks",
	"num_gpu_blocks":            "pa_num_blocks",
	"pa_block_size":             "block_size",
	"override_neuron_config":    "neuron_config",
	"sequence_parallel_enabled": "sequence_parallel",
	"flash_decoding_enabled":    "flash_decoding",
	"request_rate":              "rate",
	"qps":                       "rate",
	"concurrency":               "max_concurrency",
	"num_prompts":               "queries",
	"input_file":                "dataset",
	"test_configs":              "configs",
	"base_config":               "base",
	"phases":                    "load",
	"extra_args":                "vllm_args",
	"args":                      "vllm_args",
	"model_name":                "served_model_name",
	"timeout":                   "request_timeout",
	"context_buckets":           "context_encoding_buckets",
	"token_buckets":             "token_generation_buckets",
}

// suggest returns the known key closest to an unknown one, or "": an alias
// first, then neuron.Closest (spelling, edit distance, containment).
func suggest(key string, known []string) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	if a, ok := aliases[norm]; ok && slices.Contains(known, a) && !slices.Contains(known, norm) {
		return a
	}
	return neuron.Closest(key, known)
}

// Suggest returns the name in known closest to name (a typo, another
// spelling, a known alias), or "" when none is close. It is the
// did-you-mean of profile keys and of the CLI's names (commands, flags,
// list-valued flags) alike.
func Suggest(name string, known []string) string { return suggest(name, known) }
