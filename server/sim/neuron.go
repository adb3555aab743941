package sim

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// NeuronConfig is the effective NxDI NeuronConfig the simulated plugin
// builds: the plugin's defaults derived from the vLLM flags, updated with
// override_neuron_config. It is what the compiled
// artifacts are keyed by, and what a reused artifact directory restores.
type NeuronConfig struct {
	TPDegree         int    `json:"tp_degree"`
	BatchSize        int    `json:"batch_size"`
	MaxContextLength int    `json:"max_context_length"`
	SeqLen           int    `json:"seq_len"`
	TorchDtype       string `json:"torch_dtype"`
	EnableBucketing  bool   `json:"enable_bucketing"`
	// ContextEncodingBuckets and TokenGenerationBuckets are the effective
	// buckets: the listed ones, the automatic powers of two, or the single
	// full length when bucketing is off.
	ContextEncodingBuckets []int `json:"context_encoding_buckets"`
	TokenGenerationBuckets []int `json:"token_generation_buckets"`
	// OnDeviceSampling is true unless on_device_sampling_config is null.
	OnDeviceSampling bool `json:"on_device_sampling"`
	IsPrefixCaching  bool `json:"is_prefix_caching"`
	IsBlockKVLayout  bool `json:"is_block_kv_layout"`
	ChunkedPrefill   bool `json:"chunked_prefill"`
	PANumBlocks      int  `json:"pa_num_blocks"`
	PABlockSize      int  `json:"pa_block_size"`
	SkipWarmup       bool `json:"skip_warmup"`
	// Extra records the other recognised keys that change compiled graphs
	// (kernels, quantisation, sequence parallel …) so they enter the hash.
	Extra map[string]any `json:"extra,omitempty"`
}

// NumBuckets is the number of compiled graphs (CTE + TKG buckets), which the
// compile time grows with.
func (c NeuronConfig) NumBuckets() int {
	return len(c.ContextEncodingBuckets) + len(c.TokenGenerationBuckets)
}

// neuronKeys are the NeuronConfig keyword arguments NxDI knows; any other
// override key produces the "Unexpected keyword arguments" warning.
var neuronKeys = toSet(strings.Fields(`tp_degree ctx_batch_size tkg_batch_size batch_size max_batch_size
	max_context_length seq_len max_length max_new_tokens n_positions n_active_tokens enable_bucketing
	context_encoding_buckets token_generation_buckets prefix_buckets is_continuous_batching quantized
	quantization_dtype quantization_type quantized_checkpoints_path torch_dtype padding_side
	on_device_sampling_config pa_num_blocks pa_block_size is_block_kv_layout is_prefix_caching
	skip_warmup save_sharded_checkpoint skip_sharding sequence_parallel_enabled flash_decoding_enabled
	fused_qkv attn_kernel_enabled qkv_kernel_enabled mlp_kernel_enabled attn_tkg_nki_kernel_enabled
	attn_block_tkg_nki_kernel_enabled attn_tkg_builtin_kernel_enabled k_cache_transposed kv_cache_quant
	kv_cache_batch_size kv_cache_padding_size async_mode chunked_prefill_config token_generation_batches
	logical_nc_config logical_neuron_cores cp_degree ep_degree pp_degree world_size start_rank_id
	local_ranks_size output_logits enable_fused_speculation enable_eagle_speculation speculation_length
	trace_tokengen_model weights_to_skip_loading cast_type rpl_reduce_dtype attention_dtype
	overrides_torch_dtype allow_input_truncation vocab_parallel layer_boundary_markers is_medusa
	medusa_speculation_length num_medusa_heads lora_config enable_long_context_mode
	scratchpad_page_size cc_pipeline_tiling_factor mlp_kernel_fuse_residual_add
	qkv_kernel_fuse_residual_add quantize_clamp_bound modules_to_not_convert draft_model_modules_to_not_convert
	target activation_quantization_type enable_output_completion_notifications is_eagle_draft
	max_context_length_tkg output_logits_tkg apply_seq_ids_mask`))

func toSet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// startupError is a configuration error the real stack reports at startup:
// Exception is the last traceback line (e.g. "AssertionError: …"), Engine
// says whether it is raised inside EngineCore (after "EngineCore failed to
// start.") rather than in the API server process.
type startupError struct {
	Exception string
	Engine    bool
}

func (e *startupError) Error() string { return e.Exception }

// resolved is the outcome of the plugin's configuration step: the vLLM
// cache settings after the plugin's adjustments, the NeuronConfig, and the
// log lines it printed on the way.
type resolved struct {
	BlockSize  int
	NumBlocks  int // vLLM's num_gpu_blocks (with the null block)
	Neuron     NeuronConfig
	Unexpected []string // unknown override keys, in order
	Infos      []string
}

// resolveConfig reproduces vllm-neuron's platform and loader logic
// (check_and_update_config, _get_default_neuron_config, override merge,
// _handle_pa_num_blocks, _validate_neuron_config, NxDI bucketing) and
// returns the first error the real stack would raise.
func resolveConfig(o Options) (resolved, error) {
	overrideKeys := o.overrideKeys()
	var r resolved
	apc := o.PrefixCaching
	chunked := o.EnableChunkedPrefill
	if chunked && !o.CustomSchedulerOff {
		r.Infos = append(r.Infos, "The custom Neuron scheduler will disable chunked prefill and set max_num_batched_tokens to 131072.")
		chunked = false
	}
	r.BlockSize = o.BlockSize
	if apc && o.BlockSize == 0 {
		return r, &startupError{Exception: "AssertionError: When prefix caching is enabled, block_size must be set."}
	}
	if !apc {
		r.BlockSize = o.MaxModelLen
	}
	override := o.Override
	userBlocks := o.NumGPUBlocksOverride
	numBlocks := 0
	if userBlocks > 0 {
		numBlocks = userBlocks + 1
		r.Infos = append(r.Infos, fmt.Sprintf("Adding 1 to num_gpu_blocks_override (%d -> %d)", userBlocks, numBlocks))
	}
	nc := NeuronConfig{
		TPDegree:         o.TensorParallelSize,
		BatchSize:        o.MaxNumSeqs,
		MaxContextLength: o.MaxModelLen,
		SeqLen:           o.MaxModelLen,
		TorchDtype:       o.Dtype,
		EnableBucketing:  true,
		OnDeviceSampling: true,
		PABlockSize:      r.BlockSize,
		IsBlockKVLayout:  chunked || apc,
		IsPrefixCaching:  apc,
	}
	if chunked {
		nc.BatchSize = 1
		nc.MaxContextLength = o.MaxNumBatchedTokens
	}
	nc.PANumBlocks = (o.MaxModelLen / r.BlockSize) * o.MaxNumSeqs
	if numBlocks > 0 {
		nc.PANumBlocks = numBlocks
	}
	var cteList, tkgList []int
	for _, k := range overrideKeys {
		v := override[k]
		if !neuronKeys[k] {
			r.Unexpected = append(r.Unexpected, k)
			continue
		}
		var err error
		switch k {
		case "tp_degree":
			nc.TPDegree, err = asInt(k, v)
		case "batch_size", "max_batch_size":
			nc.BatchSize, err = asInt(k, v)
		case "max_context_length":
			nc.MaxContextLength, err = asInt(k, v)
		case "seq_len", "max_length":
			nc.SeqLen, err = asInt(k, v)
		case "torch_dtype":
			nc.TorchDtype = fmt.Sprint(v)
		case "enable_bucketing":
			nc.EnableBucketing, err = asBool(k, v)
		case "context_encoding_buckets":
			cteList, err = asIntList(k, v)
		case "token_generation_buckets":
			tkgList, err = asIntList(k, v)
		case "on_device_sampling_config":
			nc.OnDeviceSampling = v != nil
		case "is_prefix_caching":
			nc.IsPrefixCaching, err = asBool(k, v)
		case "is_block_kv_layout":
			nc.IsBlockKVLayout, err = asBool(k, v)
		case "chunked_prefill_config":
			nc.ChunkedPrefill = v != nil
		case "pa_num_blocks":
			nc.PANumBlocks, err = asInt(k, v)
		case "pa_block_size":
			nc.PABlockSize, err = asInt(k, v)
		case "skip_warmup":
			nc.SkipWarmup, err = asBool(k, v)
		default:
			if nc.Extra == nil {
				nc.Extra = map[string]any{}
			}
			nc.Extra[k] = v
		}
		if err != nil {
			return r, &startupError{Exception: "TypeError: " + err.Error(), Engine: true}
		}
	}
	// _handle_pa_num_blocks
	_, paSet := override["pa_num_blocks"]
	if userBlocks > 0 && paSet {
		if nc.PANumBlocks != userBlocks {
			return r, &startupError{Exception: fmt.Sprintf("ValueError: pa_num_blocks (%d) must match your --num-gpu-blocks-override intent(%d) to ensure vLLM and NxDI have consistent block counts. ", nc.PANumBlocks, userBlocks), Engine: true}
		}
		nc.PANumBlocks = numBlocks
		r.Infos = append(r.Infos, fmt.Sprintf("User provided pa_num_blocks (%d) matching original --num-gpu-blocks-override intent. Incrementing pa_num_blocks to %d to match the increment for a null block in vllm.", userBlocks, numBlocks))
	} else if paSet {
		return r, &startupError{Exception: fmt.Sprintf("ValueError: When setting pa_num_blocks (%d) in override_neuron_config, you must also set --num-gpu-blocks-override to the same value to ensure vLLM and NxDI have consistent block counts.", nc.PANumBlocks), Engine: true}
	}
	// _validate_neuron_config
	if apc && (!nc.IsPrefixCaching || !nc.IsBlockKVLayout) {
		return r, &startupError{Exception: "AssertionError", Engine: true}
	}
	if chunked && (!nc.ChunkedPrefill || !nc.IsBlockKVLayout) {
		return r, &startupError{Exception: "AssertionError", Engine: true}
	}
	if nc.IsBlockKVLayout {
		minBlocks := ceilDiv(o.MaxModelLen, r.BlockSize) * o.MaxNumSeqs
		effective := nc.PANumBlocks
		if userBlocks > 0 {
			effective = userBlocks
		}
		if effective < minBlocks {
			return r, &startupError{Exception: fmt.Sprintf("AssertionError: At least %d blocks are required for max_model_len %d, but only %d blocks are available (user-intended blocks, excluding the +1 for null block)", minBlocks, o.MaxModelLen, effective), Engine: true}
		}
	}
	// NxDI bucketing (modules/autobucketing.py).
	if nc.EnableBucketing {
		nc.ContextEncodingBuckets = cteList
		if nc.ContextEncodingBuckets == nil {
			nc.ContextEncodingBuckets = autoBuckets(128, nc.MaxContextLength)
		}
		nc.TokenGenerationBuckets = tkgList
		if nc.TokenGenerationBuckets == nil {
			nc.TokenGenerationBuckets = autoBuckets(128, nc.SeqLen)
		}
	} else {
		nc.ContextEncodingBuckets = []int{nc.MaxContextLength}
		nc.TokenGenerationBuckets = []int{nc.SeqLen}
	}
	sort.Ints(nc.ContextEncodingBuckets)
	sort.Ints(nc.TokenGenerationBuckets)
	if len(nc.ContextEncodingBuckets) == 0 || len(nc.TokenGenerationBuckets) == 0 {
		return r, &startupError{Exception: "IndexError: list index out of range", Engine: true}
	}
	if last := nc.ContextEncodingBuckets[len(nc.ContextEncodingBuckets)-1]; last > nc.MaxContextLength {
		return r, &startupError{Exception: fmt.Sprintf("AssertionError: Context bucket %d should be <= %d", last, nc.MaxContextLength), Engine: true}
	}
	if last := nc.TokenGenerationBuckets[len(nc.TokenGenerationBuckets)-1]; last > nc.SeqLen {
		return r, &startupError{Exception: fmt.Sprintf("AssertionError: Token generation bucket %d should be <= %d", last, nc.SeqLen), Engine: true}
	}
	r.Neuron = nc
	r.NumBlocks = nc.PANumBlocks
	if numBlocks > 0 {
		r.NumBlocks = numBlocks
	}
	return r, nil
}

// kShapeError reports the NxDI failure of a block KV layout without prefix
// caching or chunked prefill: BlockKVCacheManager never sets k_shape.
func kShapeError(nc NeuronConfig) error {
	if nc.IsBlockKVLayout && !nc.IsPrefixCaching && !nc.ChunkedPrefill {
		return &startupError{Exception: "AttributeError: 'BlockKVCacheManager' object has no attribute 'k_shape'", Engine: true}
	}
	return nil
}

// autoBuckets is NxDI's generate_buckets: powers of two from minLen up to
// (but excluding) 2^round(log2(maxLen)), then maxLen itself.
func autoBuckets(minLen, maxLen int) []int {
	if minLen >= maxLen {
		return []int{maxLen}
	}
	minBound := int(math.Log2(float64(minLen)))
	maxBound := int(math.Round(math.Log2(float64(maxLen))))
	var b []int
	for i := minBound; i < maxBound; i++ {
		b = append(b, 1<<i)
	}
	return append(b, maxLen)
}

// pickBucket is NxDI's bucket choice: the first bucket strictly longer than
// n, or the largest when n equals it exactly; ok is false when n exceeds the
// largest bucket.
func pickBucket(buckets []int, n int) (bucket int, ok bool) {
	for _, b := range buckets {
		if n < b {
			return b, true
		}
	}
	if last := buckets[len(buckets)-1]; n == last {
		return last, true
	}
	return 0, false
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func asInt(k string, v any) (int, error) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s must be an int, got %s", k, pyRepr(v))
	}
	return int(f), nil
}

func asBool(k string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s must be a bool, got %s", k, pyRepr(v))
	}
	return b, nil
}

func asIntList(k string, v any) ([]int, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of ints, got %s", k, pyRepr(v))
	}
	out := make([]int, 0, len(l))
	for _, e := range l {
		n, err := asInt(k, e)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
