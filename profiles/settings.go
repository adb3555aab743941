package profiles

import (
	"maps"
	"reflect"
	"slices"

	"loadgen/server/neuron"
)

// Settings are the per-configuration server settings. In base and in a
// config a nil field is "not set"; a config's field replaces base's, except
// the maps (neuron_config, additional_config, env), which merge key by key.
// In an expanded Config every scalar field is set (defaults filled in), so
// the accessors never have to guess.
type Settings struct {
	// MaxModelLen is --max-model-len: the longest prompt plus output, and
	// the compiled sequence length. Required.
	MaxModelLen *int `yaml:"max_model_len" json:"max_model_len,omitempty"`
	// BlockSize is --block-size and pa_block_size; required with prefix
	// caching.
	BlockSize *int `yaml:"block_size" json:"block_size,omitempty"`
	// MaxNumSeqs is --max-num-seqs and the compiled batch size (default
	// DefaultMaxNumSeqs).
	MaxNumSeqs *int `yaml:"max_num_seqs" json:"max_num_seqs,omitempty"`
	// MaxNumBatchedTokens is --max-num-batched-tokens (passed only when
	// set; the plugin's custom scheduler replaces it, see
	// neuron.Stack.Overrides).
	MaxNumBatchedTokens *int `yaml:"max_num_batched_tokens" json:"max_num_batched_tokens,omitempty"`
	// PANumBlocks is --num-gpu-blocks-override and pa_num_blocks. Default:
	// ceil(max_model_len/block_size)·max_num_seqs with prefix caching,
	// max_num_seqs without.
	PANumBlocks *int `yaml:"pa_num_blocks" json:"pa_num_blocks,omitempty"`
	// EnablePrefixCaching gives --enable-prefix-caching or
	// --no-enable-prefix-caching, always one of them (default false).
	EnablePrefixCaching *bool `yaml:"enable_prefix_caching" json:"enable_prefix_caching,omitempty"`
	// EnableBucketing is enable_bucketing (default true, the plugin's).
	EnableBucketing *bool `yaml:"enable_bucketing" json:"enable_bucketing,omitempty"`
	// ContextEncodingBuckets and TokenGenerationBuckets are the compiled
	// prompt and sequence lengths; unset means the plugin's powers of two.
	ContextEncodingBuckets []int `yaml:"context_encoding_buckets" json:"context_encoding_buckets,omitempty"`
	TokenGenerationBuckets []int `yaml:"token_generation_buckets" json:"token_generation_buckets,omitempty"`
	// PrefixBuckets are the prefix lengths of prefix caching's 2-D
	// context ladder (NxDI adds 0); with prefix caching, listed context
	// buckets need them. Unset means NxDI's own.
	PrefixBuckets []int `yaml:"prefix_buckets" json:"prefix_buckets,omitempty"`
	// KVCacheQuant is kv_cache_quant (FP8 KV cache; also sets
	// XLA_HANDLE_SPECIAL_SCALAR=1).
	KVCacheQuant *bool `yaml:"kv_cache_quant" json:"kv_cache_quant,omitempty"`
	// SequenceParallel is sequence_parallel_enabled.
	SequenceParallel *bool `yaml:"sequence_parallel" json:"sequence_parallel,omitempty"`
	// FlashDecoding is flash_decoding_enabled.
	FlashDecoding *bool `yaml:"flash_decoding" json:"flash_decoding,omitempty"`
	// SkipWarmup is skip_warmup (default false: the server runs every
	// bucket once at startup).
	SkipWarmup *bool `yaml:"skip_warmup" json:"skip_warmup,omitempty"`
	// NeuronConfig holds any other override_neuron_config key, merged
	// last (e.g. on_device_sampling_config, fused_qkv).
	NeuronConfig map[string]any `yaml:"neuron_config" json:"neuron_config,omitempty"`
	// AdditionalConfig holds keys beside override_neuron_config in
	// --additional-config (e.g. max_prompt_length on plugin 0.5).
	AdditionalConfig map[string]any `yaml:"additional_config" json:"additional_config,omitempty"`
	// VLLMArgs are extra vllm serve arguments, after server.vllm_args.
	VLLMArgs []string `yaml:"vllm_args" json:"vllm_args,omitempty"`
	// Env is set in the server's environment, over server.env.
	Env map[string]string `yaml:"env" json:"env,omitempty"`
}

// DefaultMaxNumSeqs is the --max-num-seqs loadgen passes when a profile
// sets none. It is the plugin's own fallback (vllm-neuron 0.2.0
// vllm_neuron/platform.py L195–201), which vLLM 0.11 never lets it apply:
// vllm serve's default is 256 (vllm v0.11.0 vllm/engine/arg_utils.py
// L1616–1619), so loadgen always passes the flag.
const DefaultMaxNumSeqs = 32

// PrefixCaching reports whether automatic prefix caching is on.
func (s Settings) PrefixCaching() bool { return s.EnablePrefixCaching != nil && *s.EnablePrefixCaching }

// Bucketing reports whether bucketing is on (the plugin's default).
func (s Settings) Bucketing() bool { return s.EnableBucketing == nil || *s.EnableBucketing }

// ModelLen returns max_model_len (0 when not set).
func (s Settings) ModelLen() int { return deref(s.MaxModelLen) }

// NumSeqs returns max_num_seqs (DefaultMaxNumSeqs when not set).
func (s Settings) NumSeqs() int {
	if s.MaxNumSeqs == nil {
		return DefaultMaxNumSeqs
	}
	return *s.MaxNumSeqs
}

// NumBlocks returns the --num-gpu-blocks-override value: pa_num_blocks, or
// its default when not set (see PANumBlocks).
func (s Settings) NumBlocks() int {
	if s.PANumBlocks != nil {
		return *s.PANumBlocks
	}
	return s.RequiredBlocks()
}

// RequiredBlocks is the number of KV blocks the configuration needs:
// ceil(max_model_len/block_size)·max_num_seqs with prefix caching (one
// block table per sequence), max_num_seqs without it (the plugin then
// uses one max_model_len block per sequence).
func (s Settings) RequiredBlocks() int {
	if !s.PrefixCaching() || deref(s.BlockSize) <= 0 {
		return s.NumSeqs()
	}
	return neuron.MinBlocks(s.ModelLen(), *s.BlockSize, s.NumSeqs())
}

// Ladder is the bucket ladder NxDI compiles for these settings, or NxDI's
// error (a *neuron.LadderError) when it cannot build it.
func (s Settings) Ladder() (neuron.Ladder, error) { return neuron.BuildLadder(s.bucketInput()) }

// bucketInput is what NxDI builds the ladder from, as the plugin passes
// these settings (max_context_length and seq_len are max_model_len).
func (s Settings) bucketInput() neuron.BucketInput {
	return neuron.BucketInput{
		Enabled: s.Bucketing(), PrefixCaching: s.PrefixCaching(),
		MaxContextLength: s.ModelLen(), MaxLength: s.ModelLen(),
		CTE: s.ContextEncodingBuckets, Prefix: s.PrefixBuckets, TKG: s.TokenGenerationBuckets,
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// merge returns s with every field that o sets replaced (maps merged key
// by key). It records in from, for every field o sets, the key path
// prefix+key, so that later messages can say where a value came from.
func (s Settings) merge(o Settings, prefix string, from map[string]string) Settings {
	out := s.clone()
	ov, dv := reflect.ValueOf(o), reflect.ValueOf(&out).Elem()
	names := fieldNames(reflect.TypeOf(s))
	for i, key := range names {
		f := ov.Field(i)
		if f.IsNil() {
			continue
		}
		if from != nil {
			from[key] = joinPath(prefix, key)
		}
		switch f.Kind() {
		case reflect.Map:
			m := reflect.MakeMap(f.Type())
			if !dv.Field(i).IsNil() {
				iter := dv.Field(i).MapRange()
				for iter.Next() {
					m.SetMapIndex(iter.Key(), iter.Value())
				}
			}
			iter := f.MapRange()
			for iter.Next() {
				m.SetMapIndex(iter.Key(), iter.Value())
			}
			dv.Field(i).Set(m)
		default:
			dv.Field(i).Set(f)
		}
	}
	return out
}

// clone copies s so that the copy shares no pointers, slices or maps.
func (s Settings) clone() Settings {
	c := s
	c.MaxModelLen = clonePtr(s.MaxModelLen)
	c.BlockSize = clonePtr(s.BlockSize)
	c.MaxNumSeqs = clonePtr(s.MaxNumSeqs)
	c.MaxNumBatchedTokens = clonePtr(s.MaxNumBatchedTokens)
	c.PANumBlocks = clonePtr(s.PANumBlocks)
	c.EnablePrefixCaching = clonePtr(s.EnablePrefixCaching)
	c.EnableBucketing = clonePtr(s.EnableBucketing)
	c.KVCacheQuant = clonePtr(s.KVCacheQuant)
	c.SequenceParallel = clonePtr(s.SequenceParallel)
	c.FlashDecoding = clonePtr(s.FlashDecoding)
	c.SkipWarmup = clonePtr(s.SkipWarmup)
	c.ContextEncodingBuckets = slices.Clone(s.ContextEncodingBuckets)
	c.TokenGenerationBuckets = slices.Clone(s.TokenGenerationBuckets)
	c.PrefixBuckets = slices.Clone(s.PrefixBuckets)
	c.NeuronConfig = maps.Clone(s.NeuronConfig)
	c.AdditionalConfig = maps.Clone(s.AdditionalConfig)
	c.VLLMArgs = slices.Clone(s.VLLMArgs)
	c.Env = maps.Clone(s.Env)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// withDefaults fills every unset scalar with its default.
func (s Settings) withDefaults() Settings {
	if s.MaxNumSeqs == nil {
		s.MaxNumSeqs = ptr(DefaultMaxNumSeqs)
	}
	if s.EnablePrefixCaching == nil {
		s.EnablePrefixCaching = ptr(false)
	}
	if s.EnableBucketing == nil {
		s.EnableBucketing = ptr(true)
	}
	if s.PANumBlocks == nil {
		s.PANumBlocks = ptr(s.RequiredBlocks())
	}
	for _, b := range []**bool{&s.KVCacheQuant, &s.SequenceParallel, &s.FlashDecoding, &s.SkipWarmup} {
		if *b == nil {
			*b = ptr(false)
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }
