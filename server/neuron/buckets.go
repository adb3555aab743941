package neuron

import (
	"fmt"
	"math"
	"slices"
)

// Bucketing rules of NxDI, identical in v0.6.10598 and v0.7.14366:
// modules/autobucketing.py (generation) and models/model_wrapper.py
// (selection). A Ladder is what NxDI compiles: one graph per bucket.

// Ladder is the set of compiled buckets of one configuration.
type Ladder struct {
	// CTE lists the context-encoding (prefill) lengths, increasing.
	CTE []int `json:"context_encoding"`
	// Prefix lists the prefix lengths of prefix caching's 2-D ladder,
	// starting with 0; every CTE length is compiled with every prefix
	// length. Nil without prefix caching.
	Prefix []int `json:"prefix,omitempty"`
	// TKG lists the token-generation lengths, increasing.
	TKG []int `json:"token_generation"`
}

// TwoD reports whether the context-encoding ladder is prefix caching's
// 2-D one.
func (l Ladder) TwoD() bool { return l.Prefix != nil }

// CTEGraphs is the number of context-encoding graphs (|CTE|·|Prefix| in
// 2-D).
func (l Ladder) CTEGraphs() int {
	if l.TwoD() {
		return len(l.CTE) * len(l.Prefix)
	}
	return len(l.CTE)
}

// Graphs is the number of compiled graphs, which the compile time grows
// with.
func (l Ladder) Graphs() int { return l.CTEGraphs() + len(l.TKG) }

// LargestCTE is the longest prompt prefill the ladder can take.
func (l Ladder) LargestCTE() int { return l.CTE[len(l.CTE)-1] }

// AutoPrefixBuckets are the prefix lengths NxDI compiles by itself with
// prefix caching (without the 0 it always adds): a sensible prefix_buckets
// for listed context buckets.
func AutoPrefixBuckets(maxContextLength int) []int {
	return GenerateBuckets(minAutoPrefixCTE, maxContextLength)
}

// BucketInput is what NxDI builds the ladder from (NeuronConfig fields).
type BucketInput struct {
	Enabled          bool // enable_bucketing
	PrefixCaching    bool // is_prefix_caching
	MaxContextLength int  // max_context_length
	MaxLength        int  // seq_len / max_length
	// CTE, Prefix and TKG are context_encoding_buckets, prefix_buckets and
	// token_generation_buckets as given (nil: not given).
	CTE, Prefix, TKG []int
}

// GenerateBuckets is NxDI's generate_buckets: powers of two from minLen up
// to, but excluding, 2^round(log2(maxLen)), then maxLen itself; [maxLen]
// when minLen ≥ maxLen. E.g. (128, 1400) → [128 256 512 1400].
// source: NxDI v0.7.14366 modules/autobucketing.py L8–19.
func GenerateBuckets(minLen, maxLen int) []int {
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

// Bucket limits of NxDI's automatic ladders.
// source: NxDI v0.7.14366 modules/autobucketing.py L188–195 ("minimal 512
// to use the FA kernel"), L197–199 (128), L237–241 ("minimal 256 to use the
// block attn nki kernel").
const (
	minAutoCTE       = 128
	minAutoPrefixCTE = 512
	minAutoPrefixTKG = 256
)

// LadderError is why NxDI cannot build a ladder.
type LadderError struct {
	// Key is the NeuronConfig key at fault: context_encoding_buckets,
	// token_generation_buckets or prefix_buckets.
	Key string
	// Exception is the last line of NxDI's traceback.
	Exception string
}

func (e *LadderError) Error() string { return e.Exception }

// BuildLadder builds the ladder NxDI compiles, or returns the error NxDI
// raises while doing so (a *LadderError). It also checks the NeuronConfig
// assertions on explicit lists.
// source: NxDI v0.7.14366 modules/autobucketing.py generate_buckets_for_cte
// L149–200 and generate_buckets_for_tkg L203–246 (same in v0.6.10598);
// models/config.py v0.6.10598 L191–207 (the assertions).
func BuildLadder(in BucketInput) (Ladder, error) {
	if errs := LadderErrors(in); len(errs) > 0 {
		return Ladder{}, errs[0]
	}
	cte, tkg := slices.Clone(in.CTE), slices.Clone(in.TKG)
	slices.Sort(cte) // NeuronConfig sorts both lists; prefix_buckets it leaves alone
	slices.Sort(tkg)
	var l Ladder
	mcl, ml := in.MaxContextLength, in.MaxLength
	switch {
	case !in.Enabled && in.PrefixCaching:
		l.CTE, l.Prefix = []int{mcl}, []int{0, mcl}
	case !in.Enabled:
		l.CTE = []int{mcl}
	case in.CTE != nil && in.PrefixCaching:
		l.CTE, l.Prefix = cte, append([]int{0}, in.Prefix...)
	case in.CTE != nil:
		l.CTE = cte
	case in.PrefixCaching:
		l.CTE, l.Prefix = GenerateBuckets(minAutoPrefixCTE, mcl), append([]int{0}, GenerateBuckets(minAutoPrefixCTE, mcl)...)
	default:
		l.CTE = GenerateBuckets(minAutoCTE, mcl)
	}
	switch {
	case !in.Enabled:
		l.TKG = []int{ml}
	case in.TKG != nil:
		l.TKG = tkg // with prefix caching: [[1, b] for b in buckets]
	case in.PrefixCaching:
		l.TKG = GenerateBuckets(minAutoPrefixTKG, ml)
	default:
		l.TKG = GenerateBuckets(minAutoCTE, ml)
	}
	if len(l.CTE) == 0 || len(l.TKG) == 0 {
		return Ladder{}, &LadderError{"context_encoding_buckets", "IndexError: list index out of range"}
	}
	return l, nil
}

// LadderErrors returns every reason NxDI cannot build the ladder, in the
// order NxDI meets them (it raises the first): the NeuronConfig assertions
// on explicit lists (models/config.py v0.6.10598 L191–207), then, with
// prefix caching and listed context buckets but no prefix_buckets,
// generate_2d_buckets_for_prefix_caching_from_config(ctx, None, True),
// which runs [0] + None (modules/autobucketing.py v0.7.14366 L56).
func LadderErrors(in BucketInput) []*LadderError {
	var errs []*LadderError
	if n := len(in.CTE); n > 0 && slices.Max(in.CTE) > in.MaxContextLength {
		errs = append(errs, &LadderError{"context_encoding_buckets", fmt.Sprintf("AssertionError: "+MsgContextBucketAssert, slices.Max(in.CTE), in.MaxContextLength)})
	}
	if n := len(in.TKG); n > 0 && slices.Max(in.TKG) > in.MaxLength {
		errs = append(errs, &LadderError{"token_generation_buckets", fmt.Sprintf("AssertionError: "+MsgTKGBucketAssert, slices.Max(in.TKG), in.MaxLength)})
	}
	if in.Enabled && in.PrefixCaching && in.CTE != nil && in.Prefix == nil {
		errs = append(errs, &LadderError{"prefix_buckets", MsgPrefixBucketsTypeError})
	}
	return errs
}

// CTEBucket is the context-encoding bucket one prompt runs in: its padded
// prefill length and, in 2-D, the prefix bucket.
type CTEBucket struct {
	Prefill, Prefix int
}

// Padded is the number of token positions the graph processes.
func (b CTEBucket) Padded() int { return b.Prefill + b.Prefix }

// PickCTE picks the context-encoding bucket of a prompt whose first prefix
// tokens come from the prefix cache (prefix is 0 without a cache hit), or
// returns NxDI's error when none fits.
//
// 1-D (models/model_wrapper.py v0.7.14366 L1015–1040): the first bucket
// strictly longer than the prompt, or the largest when the prompt equals it.
//
// 2-D (get_target_2d_bucket_for_prefix_caching, L1043–1165): if
// 256 < prefill+prefix ≤ 512, [512, 0]; else the first prefill bucket ≥ the
// uncached tokens, whose empty slots absorb cached tokens, then the first
// prefix bucket ≥ what is left.
func (l Ladder) PickCTE(prompt, prefix int) (CTEBucket, error) {
	if !l.TwoD() {
		b, ok := pickFirstFit(l.CTE, prompt)
		if !ok {
			return CTEBucket{}, fmt.Errorf("ValueError: "+MsgInputLenExceeds, prompt, l.LargestCTE(), TagCTE)
		}
		return CTEBucket{Prefill: b}, nil
	}
	prefill := prompt - prefix
	if total := prefill + prefix; total > 256 && total <= 512 && slices.Contains(l.CTE, 512) {
		return CTEBucket{Prefill: 512}, nil
	}
	i := 0
	for i < len(l.CTE) && prefill > l.CTE[i] {
		i++
	}
	if i == len(l.CTE) {
		return CTEBucket{}, fmt.Errorf("ValueError: "+MsgPrefillLenExceeds, tensorRepr(prefill), tensorRepr(l.LargestCTE()), TagCTE)
	}
	left := max(0, prefix-(l.CTE[i]-prefill))
	j := 0
	for j < len(l.Prefix) && left > l.Prefix[j] {
		j++
	}
	if j == len(l.Prefix) {
		return CTEBucket{}, fmt.Errorf("AssertionError: "+MsgPrefixLenExceeds, tensorRepr(left), tensorRepr(l.Prefix[len(l.Prefix)-1]), TagCTE)
	}
	return CTEBucket{Prefill: l.CTE[i], Prefix: l.Prefix[j]}, nil
}

// PickTKG picks the token-generation bucket for sequences of up to n
// tokens: 1-D first fit as in PickCTE; in 2-D the first bucket strictly
// longer than n (model_wrapper.py v0.7.14366 L1084–1111). ok is false when
// none fits.
func (l Ladder) PickTKG(n int) (int, bool) {
	if l.TwoD() {
		for _, b := range l.TKG {
			if b > n {
				return b, true
			}
		}
		return 0, false
	}
	return pickFirstFit(l.TKG, n)
}

// pickFirstFit is the 1-D "first_fit" rule: the first bucket strictly
// longer than n, or the largest when n equals it exactly.
// source: NxDI v0.6.10598 models/model_wrapper.py L989–1015.
func pickFirstFit(buckets []int, n int) (int, bool) {
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

// tensorRepr renders an int the way a 0-d int32 torch tensor prints, as the
// 2-D bucket errors interpolate tensor elements.
// DERIVED (not observed): the buckets are torch.tensor(..., dtype=torch.int32)
// (model_wrapper.py v0.7.14366 L1067).
func tensorRepr(n int) string { return fmt.Sprintf("tensor(%d, dtype=torch.int32)", n) }
