package neuron

import (
	"fmt"
	"strconv"
)

// What the vllm-neuron plugin (0.2.0 and 0.2.2+lts, on vLLM 0.11.0) does to
// vLLM's settings and to the NeuronConfig it builds from them.

// ForcedMaxNumBatchedTokens is what the plugin's custom scheduler sets
// max_num_batched_tokens to, whatever --max-num-batched-tokens said.
// source: vllm-project/vllm-neuron 0.2.0 vllm_neuron/platform.py L187–193
// (0.2.2+lts: same, within L220–282).
const ForcedMaxNumBatchedTokens = 131072

// Flags are the vLLM settings the plugin reads or replaces (0 or false:
// not given).
type Flags struct {
	MaxModelLen         int
	MaxNumBatchedTokens int
	BlockSize           int
	PrefixCaching       bool
	// CustomSchedulerOff is DISABLE_NEURON_CUSTOM_SCHEDULER=1.
	CustomSchedulerOff bool
}

// Override is one setting the plugin replaces.
type Override struct {
	// Setting names the flag (and the loadgen setting behind it).
	Setting string
	// Given is what was passed, Effective what the server uses.
	Given, Effective string
	// Why says what replaces it, with its upstream source.
	Why string
}

// String renders the override in one line.
func (o Override) String() string {
	return fmt.Sprintf("%s %s → %s (%s)", o.Setting, o.Given, o.Effective, o.Why)
}

// Both plugin versions of the table (0.2.0, 0.2.2+lts) run the same
// platform code for these overrides; a stack whose plugin differed would
// need its own rows here.

// Overrides lists the settings of f the stack's plugin replaces.
func (s *Stack) Overrides(f Flags) []Override {
	var out []Override
	if f.CustomSchedulerOff {
		return nil // the native scheduler keeps both (platform.py L169–175)
	}
	if f.MaxNumBatchedTokens != 0 && f.MaxNumBatchedTokens != ForcedMaxNumBatchedTokens {
		out = append(out, Override{
			Setting: "--max-num-batched-tokens", Given: strconv.Itoa(f.MaxNumBatchedTokens), Effective: strconv.Itoa(ForcedMaxNumBatchedTokens),
			Why: "the custom scheduler sets it unconditionally: vllm_neuron/platform.py 0.2.0 L187–193, same in 0.2.2+lts",
		})
	}
	if !f.PrefixCaching && f.BlockSize != 0 && f.BlockSize != f.MaxModelLen {
		out = append(out, Override{
			Setting: "--block-size/pa_block_size", Given: strconv.Itoa(f.BlockSize), Effective: strconv.Itoa(f.MaxModelLen) + " (max_model_len)",
			Why: "without prefix caching the KV block size is max_model_len: vllm_neuron/platform.py 0.2.0 L203–207, same in 0.2.2+lts",
		})
	}
	return out
}

// EffectiveBlockSize is the KV block size the server runs with: max_model_len
// without prefix caching (platform.py L203–207), --block-size with it.
func EffectiveBlockSize(f Flags) int {
	if !f.PrefixCaching && !f.CustomSchedulerOff {
		return f.MaxModelLen
	}
	return f.BlockSize
}

// DefaultNumBlocks is the plugin's default pa_num_blocks:
// ceil(max_model_len // block_size) · max_num_seqs, which is a FLOOR
// division ("ceil" of an int).
// source: vllm-neuron 0.2.0 worker/neuronx_distributed_model_loader.py
// L741–745 (0.2.2+lts identical).
func DefaultNumBlocks(maxModelLen, blockSize, maxNumSeqs int) int {
	return maxModelLen / blockSize * maxNumSeqs
}

// MinBlocks is the number of KV blocks the plugin requires with a block KV
// layout (prefix caching): ceil(max_model_len / block_size) · max_num_seqs;
// fewer fail with MsgMinBlocks.
// source: vllm-neuron 0.2.0 worker/neuronx_distributed_model_loader.py
// L845–859.
func MinBlocks(maxModelLen, blockSize, maxNumSeqs int) int {
	return (maxModelLen + blockSize - 1) / blockSize * maxNumSeqs
}

// NullBlock is the block the plugin adds to --num-gpu-blocks-override (and
// NxDI reserves in its block cache) for vLLM's null block.
// source: vllm-neuron 0.2.0 vllm_neuron/platform.py L149–159; NxDI
// modules/kvcache/block_kv_cache_manager.py L21 (_NUM_EXTRA_RESERVED_BLOCK).
const NullBlock = 1
