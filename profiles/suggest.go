package profiles

import "strings"

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

// suggest returns the known key closest to an unknown one, or "".
func suggest(key string, known []string) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	has := func(k string) bool {
		for _, c := range known {
			if c == k {
				return true
			}
		}
		return false
	}
	if norm != key && has(norm) {
		return norm
	}
	if a, ok := aliases[norm]; ok && has(a) {
		return a
	}
	best, bestD := "", len(norm)/3+1
	if bestD > 3 {
		bestD = 3
	}
	for _, c := range known {
		if d := levenshtein(norm, c); d <= bestD && (best == "" || d < levenshtein(norm, best)) {
			best = c
		}
	}
	if best != "" {
		return best
	}
	// A known key that contains the typed one ("prefix_caching" →
	// "enable_prefix_caching").
	for _, c := range known {
		if len(norm) >= 4 && strings.Contains(c, norm) {
			return c
		}
	}
	return ""
}

// levenshtein is the edit distance between a and b (bytes).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Suggest returns the name in known closest to name (a typo, another
// spelling, a known alias), or "" when none is close. It is the
// did-you-mean of profile keys and of the CLI's names (commands, flags,
// list-valued flags) alike.
func Suggest(name string, known []string) string { return suggest(name, known) }
