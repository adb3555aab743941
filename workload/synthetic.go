package workload

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Synthetic defaults.
const (
	// DefaultSyntheticVocab is the exclusive upper bound of random token
	// ids: below the Qwen3 special tokens (151643 and up).
	DefaultSyntheticVocab = 151643
	// syntheticFirstID skips the lowest ids (single bytes and
	// punctuation) so that random prompts look like words to the model.
	syntheticFirstID = 1000
)

// SyntheticOptions configure a SyntheticSource: plain generation load, where
// ITL and TPOT matter.
type SyntheticOptions struct {
	// Model is the served model name ("" leaves it out).
	Model string
	// InputLen is the mean prompt length in tokens; InputLenRange r draws
	// each length uniformly from [InputLen·(1−r), InputLen·(1+r)], as
	// vLLM's --random-range-ratio does (0 ≤ r < 1; 0 fixes the length).
	InputLen      int
	InputLenRange float64
	// OutputLen is max_tokens, drawn the same way with OutputLenRange.
	OutputLen      int
	OutputLenRange float64
	// Seed makes the prompt sequence reproducible; vary it across runs,
	// or repeated prompts will hit the prefix cache.
	Seed int64
	// ExtraBody is merged into every body last (it may override
	// ignore_eos, temperature, …).
	ExtraBody map[string]any
	// Text sends text prompts of common English words (about one token
	// each) instead of random token ids, which give exact lengths.
	Text bool
	// Vocab bounds the random token ids; 0 is DefaultSyntheticVocab.
	Vocab int
}

// Validate checks the options.
func (o SyntheticOptions) Validate() error {
	switch {
	case o.InputLen <= 0:
		return fmt.Errorf("synthetic input_len %d: must be positive", o.InputLen)
	case o.OutputLen <= 0:
		return fmt.Errorf("synthetic output_len %d: must be positive", o.OutputLen)
	case !(o.InputLenRange >= 0 && o.InputLenRange < 1):
		return fmt.Errorf("synthetic input_len_range %v: want 0 ≤ r < 1", o.InputLenRange)
	case !(o.OutputLenRange >= 0 && o.OutputLenRange < 1):
		return fmt.Errorf("synthetic output_len_range %v: want 0 ≤ r < 1", o.OutputLenRange)
	case o.Vocab != 0 && o.Vocab <= syntheticFirstID:
		return fmt.Errorf("synthetic vocab %d: must exceed %d", o.Vocab, syntheticFirstID)
	}
	return nil
}

// SyntheticSource yields random prompts with the configured length
// distribution, one request per item, with max_tokens from OutputLen,
// temperature 0, ignore_eos true (so each request generates exactly its
// max_tokens), stream true and include_usage. Items have no documents and
// are not scored. It never ends; the engine stops it by count or duration.
// Not safe for concurrent use.
type SyntheticSource struct {
	o     SyntheticOptions
	err   error
	rng   splitmix
	n     int
	ids   []int
	words strings.Builder
}

var _ Source = (*SyntheticSource)(nil)

// NewSyntheticSource returns a synthetic source. Invalid options (see
// Validate) make Next fail.
func NewSyntheticSource(o SyntheticOptions) *SyntheticSource {
	if o.Vocab == 0 {
		o.Vocab = DefaultSyntheticVocab
	}
	return &SyntheticSource{o: o, err: o.Validate(), rng: splitmix(o.Seed)}
}

// Next implements Source.
func (s *SyntheticSource) Next(ctx context.Context) (Item, error) {
	if s.err != nil {
		return Item{}, s.err
	}
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	in := s.length(s.o.InputLen, s.o.InputLenRange)
	out := s.length(s.o.OutputLen, s.o.OutputLenRange)
	body := CompletionBody{
		Model:         s.o.Model,
		MaxTokens:     out,
		IgnoreEOS:     true,
		Stream:        true,
		StreamOptions: StreamOptions{IncludeUsage: true},
	}
	if s.o.Text {
		s.words.Reset()
		for i := range in {
			if i > 0 {
				s.words.WriteByte(' ')
			}
			s.words.WriteString(commonWords[s.rng.intn(len(commonWords))])
		}
		body.Prompt = []string{s.words.String()}
	} else {
		s.ids = s.ids[:0]
		for range in {
			s.ids = append(s.ids, syntheticFirstID+s.rng.intn(s.o.Vocab-syntheticFirstID))
		}
		body.Prompt = [][]int{s.ids}
	}
	data, err := encodeBody(body, s.o.ExtraBody)
	if err != nil {
		s.err = err
		return Item{}, err
	}
	it := Item{Query: s.n, Requests: []Request{{Body: data, Prompts: 1, MaxTokens: out}}}
	s.n++
	return it, nil
}

// length draws a length uniformly from [mean·(1−r), mean·(1+r)], at least 1.
func (s *SyntheticSource) length(mean int, r float64) int {
	if r == 0 {
		return mean
	}
	lo := int(math.Ceil(float64(mean) * (1 - r)))
	hi := int(math.Floor(float64(mean) * (1 + r)))
	lo = max(lo, 1)
	if hi < lo {
		return lo
	}
	return lo + s.rng.intn(hi-lo+1)
}

// splitmix is SplitMix64: a tiny deterministic generator whose output never
// changes across Go releases, so seeded workloads and the shipped sample
// stay reproducible.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n), with negligible modulo bias for the small
// n used here; 0 when n <= 0.
func (s *splitmix) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(s.next() % uint64(n))
}

// commonWords are frequent English words, each one token with its leading
// space on BPE tokenizers such as Qwen3's.
var commonWords = strings.Fields(`the of and to in is was for that on as with by he at from his it an
were are which this be or had not but first one their its new after who they have her she two been
other when there all during into school time may years more most only over city some world would
where later up such used many can state about national out known university then made film also
part under well being several people year between both three high through team because before
called while season number group since any great play house water home area company found long
life each early power small family public market policy claim cover plan rate price money bank car
health trip fire storm`)
