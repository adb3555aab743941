package sim

import (
	"fmt"
	"math"

	"loadgen/server/neuron"
)

// NeuronConfig is the effective NxDI NeuronConfig the simulated plugin
// builds: the plugin's defaults derived from the vLLM flags, updated with
// override_neuron_config. It is what the compiled artifacts are keyed by,
// and what a reused artifact directory restores.
type NeuronConfig struct {
	TPDegree         int    `json:"tp_degree"`
	BatchSize        int    `json:"batch_size"`
	MaxContextLength int    `json:"max_context_length"`
	SeqLen           int    `json:"seq_len"`
	TorchDtype       string `json:"torch_dtype"`
	EnableBucketing  bool   `json:"enable_bucketing"`
	// Buckets is the compiled ladder (package neuron builds it): the
	// listed buckets, NxDI's automatic ones, or the single full length
	// when bucketing is off; two-dimensional with prefix caching.
	Buckets neuron.Ladder `json:"buckets"`
	// OnDeviceSampling is true unless on_device_sampling_config is null.
	OnDeviceSampling bool `json:"on_device_sampling"`
	IsPrefixCaching  bool `json:"is_prefix_caching"`
	IsBlockKVLayout  bool `json:"is_block_kv_layout"`
	ChunkedPrefill   bool `json:"chunked_prefill"`
	PANumBlocks      int  `json:"pa_num_blocks"`
	PABlockSize      int  `json:"pa_block_size"`
	SkipWarmup       bool `json:"skip_warmup"`
	// Extra records the other applied keys that change compiled graphs
	// (kernels, quantisation, sequence parallel …) so they enter the hash.
	Extra map[string]any `json:"extra,omitempty"`
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
	BlockSize int
	NumBlocks int // vLLM's num_gpu_blocks (with the null block)
	Neuron    NeuronConfig
	// Unexpected are the override keys NeuronConfig.__init__ lists in its
	// "Unexpected keyword arguments" warning, in order: the keys it does
	// not pop before the check (unknown, derived, MoE-only and, on NxDI
	// 2.26, the late-popped ones, which it still applies).
	Unexpected []string
	// Platform are the plugin's platform log lines (INFO).
	Platform []string
}

// resolveConfig reproduces vllm-neuron's platform and loader logic
// (check_and_update_config, _get_default_neuron_config, override merge,
// _handle_pa_num_blocks, _validate_neuron_config, NxDI bucketing) for the
// simulated stack, and returns the first error the real stack would raise.
// Every rule comes from package neuron's table.
func resolveConfig(o Options) (resolved, error) {
	st := o.stack()
	var r resolved
	apc := o.PrefixCaching
	chunked := o.EnableChunkedPrefill
	flags := neuron.Flags{MaxModelLen: o.MaxModelLen, MaxNumBatchedTokens: o.MaxNumBatchedTokens, BlockSize: o.BlockSize,
		PrefixCaching: apc, CustomSchedulerOff: o.CustomSchedulerOff}
	userBlocks := o.NumGPUBlocksOverride
	numBlocks := 0
	if userBlocks > 0 {
		numBlocks = userBlocks + neuron.NullBlock
		r.Platform = append(r.Platform, fmt.Sprintf(neuron.MsgNullBlock, userBlocks, numBlocks))
	}
	if !o.CustomSchedulerOff {
		// The custom scheduler turns chunked prefill off and replaces the
		// token budget (platform.py L176–193).
		chunked = false
		r.Platform = append(r.Platform, neuron.MsgCustomScheduler, fmt.Sprintf(neuron.MsgForcedBatchedTokens, neuron.ForcedMaxNumBatchedTokens))
	}
	if apc && o.BlockSize == 0 {
		return r, &startupError{Exception: "AssertionError: " + neuron.MsgPrefixBlockSize}
	}
	r.BlockSize = neuron.EffectiveBlockSize(flags)
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
		PANumBlocks:      neuron.DefaultNumBlocks(o.MaxModelLen, r.BlockSize, o.MaxNumSeqs),
	}
	if chunked {
		nc.BatchSize = 1
		nc.MaxContextLength = o.MaxNumBatchedTokens
	}
	if numBlocks > 0 {
		nc.PANumBlocks = numBlocks
	}
	var cteList, prefixList, tkgList []int
	for _, k := range o.overrideKeys() {
		v := o.Override[k]
		switch st.Kind(k) {
		case neuron.KeyAccepted:
		case neuron.KeyLate:
			r.Unexpected = append(r.Unexpected, k) // listed, and applied below
		default:
			r.Unexpected = append(r.Unexpected, k) // listed and ignored
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
		case "prefix_buckets":
			prefixList, err = asIntList(k, v)
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
	// _handle_pa_num_blocks (loader L796–831).
	_, paSet := o.Override["pa_num_blocks"]
	if nc.IsBlockKVLayout && userBlocks > 0 && paSet {
		if nc.PANumBlocks != userBlocks {
			return r, &startupError{Exception: "ValueError: " + fmt.Sprintf(neuron.MsgPANumBlocksMismatch, nc.PANumBlocks, userBlocks), Engine: true}
		}
		nc.PANumBlocks = numBlocks
	} else if nc.IsBlockKVLayout && paSet {
		return r, &startupError{Exception: "ValueError: " + fmt.Sprintf(neuron.MsgPANumBlocksAlone, nc.PANumBlocks), Engine: true}
	}
	// _validate_neuron_config (loader L834–867).
	if apc && (!nc.IsPrefixCaching || !nc.IsBlockKVLayout) {
		return r, &startupError{Exception: "AssertionError", Engine: true}
	}
	if chunked && (!nc.ChunkedPrefill || !nc.IsBlockKVLayout) {
		return r, &startupError{Exception: "AssertionError", Engine: true}
	}
	if nc.IsBlockKVLayout {
		minBlocks := neuron.MinBlocks(o.MaxModelLen, r.BlockSize, o.MaxNumSeqs)
		effective := nc.PANumBlocks
		if userBlocks > 0 {
			effective = userBlocks
		}
		if effective < minBlocks {
			return r, &startupError{Exception: "AssertionError: " + fmt.Sprintf(neuron.MsgMinBlocks, minBlocks, o.MaxModelLen, effective), Engine: true}
		}
	}
	ladder, err := neuron.BuildLadder(neuron.BucketInput{
		Enabled: nc.EnableBucketing, PrefixCaching: nc.IsPrefixCaching,
		MaxContextLength: nc.MaxContextLength, MaxLength: nc.SeqLen,
		CTE: cteList, Prefix: prefixList, TKG: tkgList,
	})
	if err != nil {
		return r, &startupError{Exception: err.Error(), Engine: true}
	}
	nc.Buckets = ladder
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
		return &startupError{Exception: "AttributeError: " + neuron.MsgKShape, Engine: true}
	}
	return nil
}

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
