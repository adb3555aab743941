package profiles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"loadgen/server"
)

// Environment variables loadgen sets on a launched server.
const (
	// EnvCompiledArtifacts is where vllm-neuron loads or saves the
	// compiled model (one directory per configuration).
	EnvCompiledArtifacts = "NEURON_COMPILED_ARTIFACTS"
	// EnvVisibleCores pins the server to server.neuron_cores.
	EnvVisibleCores = "NEURON_RT_VISIBLE_CORES"
	// EnvDevMode enables vLLM's development endpoints; the sweep needs
	// POST /reset_prefix_cache between phases.
	EnvDevMode = "VLLM_SERVER_DEV_MODE"
	// EnvSpecialScalar is required by the FP8 KV cache (kv_cache_quant).
	EnvSpecialScalar = "XLA_HANDLE_SPECIAL_SCALAR"
)

// lookupEnv reads the environment (server.api_key_env).
var lookupEnv = os.Getenv

// argv builds the vllm serve command line of one configuration. Every flag
// the profile controls is explicit, prefix caching included (vLLM V1 turns
// it on by default), and the --additional-config JSON is one element.
func (p *Profile) argv(command []string, host string, port int, s Settings, additional string) []string {
	a := slices.Clone(command)
	a = append(a, p.Model,
		"--served-model-name", p.ServedModelName,
		"--host", host,
		"--port", strconv.Itoa(port),
		"--tensor-parallel-size", strconv.Itoa(p.TensorParallelSize),
		"--dtype", p.Server.Dtype,
		"--max-model-len", strconv.Itoa(s.ModelLen()),
		"--max-num-seqs", strconv.Itoa(s.NumSeqs()),
	)
	if s.MaxNumBatchedTokens != nil {
		a = append(a, "--max-num-batched-tokens", strconv.Itoa(*s.MaxNumBatchedTokens))
	}
	if s.BlockSize != nil {
		a = append(a, "--block-size", strconv.Itoa(*s.BlockSize))
	}
	a = append(a, "--num-gpu-blocks-override", strconv.Itoa(s.NumBlocks()))
	if s.PrefixCaching() {
		a = append(a, "--enable-prefix-caching")
	} else {
		a = append(a, "--no-enable-prefix-caching")
	}
	a = append(a, "--additional-config", additional)
	a = append(a, p.Server.VLLMArgs...)
	return append(a, s.VLLMArgs...)
}

// overrideNeuronConfig builds the override_neuron_config map: the keys
// derived from the settings, then the free neuron_config map on top.
func overrideNeuronConfig(s Settings) map[string]any {
	o := map[string]any{
		// The reranker needs logprobs, which vllm-neuron only returns
		// with CPU sampling.
		"on_device_sampling_config": nil,
		"enable_bucketing":          s.Bucketing(),
		"skip_warmup":               deref(s.SkipWarmup),
		"pa_num_blocks":             s.NumBlocks(),
	}
	if s.BlockSize != nil {
		o["pa_block_size"] = *s.BlockSize
	}
	if s.ContextEncodingBuckets != nil {
		o["context_encoding_buckets"] = s.ContextEncodingBuckets
	}
	if s.TokenGenerationBuckets != nil {
		o["token_generation_buckets"] = s.TokenGenerationBuckets
	}
	if s.PrefixBuckets != nil {
		o["prefix_buckets"] = s.PrefixBuckets
	}
	if s.PrefixCaching() {
		// Only together with prefix caching: block KV layout alone
		// crashes NxDI ('BlockKVCacheManager' has no attribute 'k_shape').
		o["is_prefix_caching"] = true
		o["is_block_kv_layout"] = true
	}
	if deref(s.KVCacheQuant) {
		o["kv_cache_quant"] = true
	}
	if deref(s.SequenceParallel) {
		o["sequence_parallel_enabled"] = true
	}
	if deref(s.FlashDecoding) {
		o["flash_decoding_enabled"] = true
	}
	for k, v := range s.NeuronConfig {
		o[k] = v
	}
	return o
}

// additionalConfig renders --additional-config: {"override_neuron_config":
// {...}} plus any additional_config siblings, as compact JSON with keys in
// sorted order (encoding/json sorts map keys), HTML characters unescaped.
func additionalConfig(s Settings) (string, error) {
	top := map[string]any{}
	for k, v := range s.AdditionalConfig {
		top[k] = v
	}
	top["override_neuron_config"] = overrideNeuronConfig(s)
	return marshalJSON(top)
}

func marshalJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// env builds the server's environment ("KEY=VALUE", sorted): loadgen's
// variables, then server.env, then the config's env (the profile wins).
func (p *Profile) env(s Settings, artifacts, apiKey string, ck *check) []string {
	m := map[string]string{
		EnvCompiledArtifacts: artifacts,
		EnvDevMode:           "1",
	}
	if cores := p.Server.NeuronCores.First(); cores != "" {
		m[EnvVisibleCores] = string(cores)
	}
	if deref(s.KVCacheQuant) {
		m[EnvSpecialScalar] = "1"
	}
	if apiKey != "" {
		m[server.EnvAPIKey] = apiKey
	}
	for _, src := range []struct {
		path string
		env  map[string]string
	}{{"server.env", p.Server.Env}, {ck.at("env"), s.Env}} {
		for _, k := range sortedKeys(src.env) {
			v := src.env[k]
			kp := joinPath(src.path, k)
			switch {
			case k == EnvCompiledArtifacts && v != artifacts:
				ck.warnAt(kp, "replaces the per-config artifacts directory %s: configs that share a directory reuse each other's compiled graphs and the plugin ignores the new overrides; remove it and use server.compiled_artifacts", artifacts)
			case k == EnvDevMode && v != "1":
				ck.warnAt(kp, "turns off vLLM's dev endpoints: the sweep cannot reset the prefix cache between phases, so later phases can hit prompts cached by earlier ones")
			case k == EnvSpecialScalar && v != "1" && deref(s.KVCacheQuant):
				ck.warnAt(kp, "kv_cache_quant needs %s=1", EnvSpecialScalar)
			}
			m[k] = v
		}
	}
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// artifactsKey hashes everything that changes the compiled graphs: model,
// TP, dtype, lengths, sequences, blocks, prefix caching, the whole
// --additional-config (buckets, neuron config), extra vLLM arguments and
// the environment except runtime-only and secret variables. Host, port,
// served name and cores do not change the graphs and are left out, so a
// config compiles once and is reused whatever port or cores it runs on.
func (p *Profile) artifactsKey(s Settings, additional string) string {
	var env []string
	for _, m := range []map[string]string{p.Server.Env, s.Env} {
		for _, k := range sortedKeys(m) {
			if strings.HasPrefix(k, "NEURON_RT_") || strings.HasPrefix(k, "VLLM_") || k == EnvCompiledArtifacts || secretName(k) {
				continue
			}
			env = append(env, k+"="+m[k])
		}
	}
	key := struct {
		Model               string   `json:"model"`
		TP                  int      `json:"tensor_parallel_size"`
		Dtype               string   `json:"dtype"`
		MaxModelLen         int      `json:"max_model_len"`
		MaxNumSeqs          int      `json:"max_num_seqs"`
		MaxNumBatchedTokens *int     `json:"max_num_batched_tokens"`
		BlockSize           *int     `json:"block_size"`
		NumBlocks           int      `json:"num_gpu_blocks_override"`
		PrefixCaching       bool     `json:"enable_prefix_caching"`
		AdditionalConfig    string   `json:"additional_config"`
		VLLMArgs            []string `json:"vllm_args"`
		Env                 []string `json:"env"`
	}{p.Model, p.TensorParallelSize, p.Server.Dtype, s.ModelLen(), s.NumSeqs(), s.MaxNumBatchedTokens, s.BlockSize,
		s.NumBlocks(), s.PrefixCaching(), additional, append(slices.Clone(p.Server.VLLMArgs), s.VLLMArgs...), env}
	b, _ := json.Marshal(key) // plain strings, ints and bools: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// artifactsDir is <root>/<config>-<hash>.
func artifactsDir(root, name, key string) string {
	return filepath.Join(root, name+"-"+key)
}

// secretName reports whether a variable name looks like it holds a secret.
func secretName(name string) bool {
	n := strings.ToUpper(name)
	for _, s := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
