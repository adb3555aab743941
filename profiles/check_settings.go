package profiles

import (
	"reflect"
	"strings"
)

// managedFlags are vLLM flags loadgen derives from the profile; giving
// them in vllm_args would contradict the profile (vLLM keeps the last).
var managedFlags = map[string]string{
	"model":                    "set model: instead",
	"served-model-name":        "set served_model_name: instead",
	"host":                     "set server.host instead",
	"port":                     "set server.port instead",
	"tensor-parallel-size":     "set tensor_parallel_size: instead",
	"tp":                       "set tensor_parallel_size: instead",
	"max-model-len":            "set max_model_len instead",
	"max-num-seqs":             "set max_num_seqs instead",
	"max-num-batched-tokens":   "set max_num_batched_tokens instead",
	"block-size":               "set block_size instead",
	"num-gpu-blocks-override":  "set pa_num_blocks instead (it is also passed as pa_num_blocks, and the two must match)",
	"dtype":                    "set server.dtype instead",
	"enable-prefix-caching":    "set enable_prefix_caching instead",
	"no-enable-prefix-caching": "set enable_prefix_caching instead",
	"additional-config":        "put override_neuron_config keys under neuron_config and other keys under additional_config",
	"override-neuron-config":   "is the legacy V0 fork's flag; the plugin reads override_neuron_config inside --additional-config: put the keys under neuron_config",
	"device":                   "was removed in vLLM 0.10 (argparse error); the plugin selects Neuron by itself: remove it",
	"api-key":                  "would put the key on the command line: set server.api_key_env to the name of a variable holding it",
	"quantization":             "must not be passed on Neuron: set neuron_config quantized / quantization_dtype instead",
}

// managedNeuronKeys are override_neuron_config keys derived from settings;
// the value says which setting to use.
var managedNeuronKeys = map[string]string{
	"enable_bucketing":          "enable_bucketing",
	"context_encoding_buckets":  "context_encoding_buckets",
	"token_generation_buckets":  "token_generation_buckets",
	"prefix_buckets":            "prefix_buckets",
	"skip_warmup":               "skip_warmup",
	"kv_cache_quant":            "kv_cache_quant",
	"sequence_parallel_enabled": "sequence_parallel",
	"flash_decoding_enabled":    "flash_decoding",
	"pa_num_blocks":             "pa_num_blocks",
	"pa_block_size":             "block_size",
}

// checkSettings checks the values of one settings block (base, a config or
// a matrix value) on their own; combinations are checked per config by
// preflight.
//
// at maps a setting key to its key path (base.max_model_len,
// matrix.max_num_seqs[1], …).
func checkSettings(pr *problems, at func(key string) string, s Settings) {
	v := reflect.ValueOf(s)
	for i, key := range fieldNames(reflect.TypeOf(s)) {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Int && f.Elem().Int() < 1 {
			pr.errorf(at(key), "must be at least 1, got %d", f.Elem().Int())
		}
	}
	checkBuckets(pr, at("context_encoding_buckets"), s.ContextEncodingBuckets)
	checkBuckets(pr, at("token_generation_buckets"), s.TokenGenerationBuckets)
	checkBuckets(pr, at("prefix_buckets"), s.PrefixBuckets)
	for _, k := range sortedKeys(s.NeuronConfig) {
		kp := joinPath(at("neuron_config"), k)
		if strings.Contains(k, "-") {
			pr.errorf(kp, "NxDI config keys use underscores; a hyphenated key is silently dropped: write %s", strings.ReplaceAll(k, "-", "_"))
			continue
		}
		if set, ok := managedNeuronKeys[k]; ok {
			pr.errorf(kp, "is derived from the setting %s: set %s instead, so that the checks and the artifacts key see it", set, set)
		}
	}
	for _, k := range sortedKeys(s.AdditionalConfig) {
		if strings.ReplaceAll(k, "-", "_") == "override_neuron_config" {
			pr.errorf(joinPath(at("additional_config"), k), "put override_neuron_config keys under neuron_config")
		}
	}
	checkArgs(pr, at("vllm_args"), s.VLLMArgs)
	checkEnv(pr, at("env"), s.Env)
}

// checkBuckets checks a bucket list: positive and strictly increasing.
func checkBuckets(pr *problems, path string, b []int) {
	if b == nil {
		if pr.has(path) {
			pr.errorf(path, "is empty: list the lengths, or remove the key to let the plugin choose powers of two")
		}
		return
	}
	if len(b) == 0 {
		pr.errorf(path, "is empty: list the lengths, or remove the key to let the plugin choose powers of two")
		return
	}
	for i, x := range b {
		switch {
		case x < 1:
			pr.errorf(indexPath(path, i), "must be at least 1, got %d", x)
			return
		case i > 0 && x <= b[i-1]:
			pr.errorf(indexPath(path, i), "buckets must increase: %d follows %d", x, b[i-1])
			return
		}
	}
}

// checkArgs rejects vLLM flags that loadgen manages itself.
func checkArgs(pr *problems, path string, args []string) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		name = strings.ReplaceAll(name, "_", "-")
		if why, ok := managedFlags[name]; ok {
			pr.errorf(indexPath(path, i), "--%s: %s", name, why)
		}
	}
}
