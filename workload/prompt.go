package workload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"unicode/utf8"
)

// The Qwen3-Reranker template (QwenLM/Qwen3-Embedding README; vLLM's
// examples/offline_inference/qwen3_reranker.py). A prompt is
// PromptPrefix + body + PromptSuffix with body
// "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}".
//
// The offline benchmark's script spelled the suffix's role "assitant"; that
// typo changes the tokens the model sees, so we use the official spelling.
const (
	PromptPrefix = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
	PromptSuffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
)

// DefaultInstruction is the offline benchmark's instruction.
const DefaultInstruction = "Given a query about insurance, retrieve relevant passages that answer the query"

// Prompt defaults, from the offline benchmark.
const (
	// DefaultMaxLength is the offline max_length: the token budget of a
	// whole prompt (prefix + body + suffix).
	DefaultMaxLength = 1500
	// DefaultMaxChars is the cut applied to the body, in characters
	// (Unicode code points, as Python's len counts them).
	DefaultMaxChars = 2000
	// DefaultCharsPerToken is the character fallback's estimate of
	// characters per token: about right for English text on the Qwen3
	// tokenizer (which averages 4 to 4.5); denser text (digits, code,
	// non-Latin scripts) has fewer characters per token, so lower it for
	// such datasets.
	DefaultCharsPerToken = 4.0
	// minBodyTokens is the offline script's floor on the body budget
	// (max(8, budget)).
	minBodyTokens = 8
	// tokenizeParallelism bounds the /tokenize calls of one query in
	// flight.
	tokenizeParallelism = 8
)

// Truncation methods: how a prompt is fitted to MaxLength.
const (
	// TruncationAuto uses the server's tokenizer when it has one and the
	// character fallback otherwise.
	TruncationAuto = "auto"
	// TruncationTokenize requires the server's tokenizer: exact.
	TruncationTokenize = "tokenize"
	// TruncationChars estimates tokens from characters
	// (CharsPerToken) and never calls the server.
	TruncationChars = "chars"
)

// PromptOptions configure prompt building. Zero values take the defaults.
type PromptOptions struct {
	// Instruction fills <Instruct>; "" is DefaultInstruction.
	Instruction string
	// MaxLength is the token budget of a whole prompt; 0 is
	// DefaultMaxLength.
	MaxLength int
	// MaxChars cuts the body to this many characters before tokenizing; 0
	// is DefaultMaxChars, negative disables the cut.
	MaxChars int
	// Truncation is TruncationAuto ("" too), TruncationTokenize or
	// TruncationChars.
	Truncation string
	// CharsPerToken is the character fallback's ratio; 0 is
	// DefaultCharsPerToken.
	CharsPerToken float64
}

func (o PromptOptions) withDefaults() (PromptOptions, error) {
	if o.Instruction == "" {
		o.Instruction = DefaultInstruction
	}
	if o.MaxLength == 0 {
		o.MaxLength = DefaultMaxLength
	}
	if o.MaxChars == 0 {
		o.MaxChars = DefaultMaxChars
	}
	if o.CharsPerToken == 0 {
		o.CharsPerToken = DefaultCharsPerToken
	}
	if o.Truncation == "" {
		o.Truncation = TruncationAuto
	}
	switch {
	case o.MaxLength < 0:
		return o, fmt.Errorf("max_length %d: must be positive", o.MaxLength)
	case o.CharsPerToken < 0 || math.IsNaN(o.CharsPerToken) || math.IsInf(o.CharsPerToken, 0):
		return o, fmt.Errorf("chars per token %v: must be positive", o.CharsPerToken)
	}
	switch o.Truncation {
	case TruncationAuto, TruncationTokenize, TruncationChars:
	default:
		return o, fmt.Errorf("truncation %q: want %q, %q or %q", o.Truncation, TruncationAuto, TruncationTokenize, TruncationChars)
	}
	return o, nil
}

// Prompt is one reranker prompt: a query and one document.
type Prompt struct {
	// Text is the prompt text. With the tokenize method and a truncated
	// body it is the detokenized truncated ids, so it matches IDs.
	Text string
	// IDs are the prompt's token ids (tokenize method only; nil with the
	// character fallback).
	IDs []int
	// Tokens is the prompt length in tokens: len(IDs), or the character
	// fallback's estimate.
	Tokens int
	// Truncated reports that the body was cut to fit MaxLength tokens.
	Truncated bool
	// CharCut reports that the body was cut to MaxChars characters.
	CharCut bool
}

// Builder builds the prompts of a query. It is safe for concurrent use.
type Builder struct {
	opts      PromptOptions
	tok       Tokenizer // nil with the character fallback
	prefixIDs []int
	suffixIDs []int
	budget    int // body tokens (tokenize) or characters (chars)
	fallback  string
}

// NewBuilder prepares prompt building. With a tokenizer and truncation auto
// or tokenize, it tokenizes the prefix and suffix once; under auto a server
// without /tokenize (ErrTokenizeUnsupported) selects the character fallback,
// and Builder.Fallback says why. A nil tok means no server tokenizer.
func NewBuilder(ctx context.Context, opts PromptOptions, tok Tokenizer) (*Builder, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Builder{opts: opts}
	if opts.Truncation == TruncationTokenize && tok == nil {
		return nil, errors.New("truncation tokenize needs the server's tokenizer")
	}
	if opts.Truncation != TruncationChars && tok != nil {
		b.prefixIDs, err = tok.Tokenize(ctx, PromptPrefix)
		if err == nil {
			b.suffixIDs, err = tok.Tokenize(ctx, PromptSuffix)
		}
		switch {
		case err == nil:
			b.tok = tok
			b.budget = max(minBodyTokens, opts.MaxLength-len(b.prefixIDs)-len(b.suffixIDs))
			return b, nil
		case opts.Truncation == TruncationAuto && errors.Is(err, ErrTokenizeUnsupported):
			b.fallback = "the server has no /tokenize"
		default:
			return nil, fmt.Errorf("tokenizing the prompt template: %w", err)
		}
	} else if opts.Truncation == TruncationAuto {
		b.fallback = "no server tokenizer"
	}
	b.prefixIDs, b.suffixIDs = nil, nil
	bodyTokens := max(minBodyTokens, opts.MaxLength-b.estimate(PromptPrefix)-b.estimate(PromptSuffix))
	b.budget = int(float64(bodyTokens) * opts.CharsPerToken)
	return b, nil
}

// Method returns how prompts are truncated: TruncationTokenize (exact, the
// server's tokenizer) or TruncationChars (estimate). Record it with the run.
func (b *Builder) Method() string {
	if b.tok != nil {
		return TruncationTokenize
	}
	return TruncationChars
}

// Fallback says why truncation auto fell back to characters ("" otherwise).
func (b *Builder) Fallback() string { return b.fallback }

// BodyBudget returns the body's budget: tokens with the tokenize method,
// characters with the character fallback.
func (b *Builder) BodyBudget() int { return b.budget }

// Body returns the prompt body of a query and document, cut to MaxChars
// characters as the offline script does (cut is true when it was).
func (b *Builder) Body(query, doc string) (body string, cut bool) {
	body = "<Instruct>: " + b.opts.Instruction + "\n<Query>: " + query + "\n<Document>: " + doc
	if b.opts.MaxChars > 0 {
		return cutRunes(body, b.opts.MaxChars)
	}
	return body, false
}

// Build returns the prompts of q, one per document, in document order.
func (b *Builder) Build(ctx context.Context, q Query) ([]Prompt, error) {
	prompts := make([]Prompt, len(q.Documents))
	if b.tok == nil {
		for i, doc := range q.Documents {
			prompts[i] = b.buildChars(q.Text, doc)
		}
		return prompts, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, tokenizeParallelism)
	)
	for i, doc := range q.Documents {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			p, err := b.buildTokens(ctx, q.Text, doc)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("query %d (line %d), document %d: %w", q.Index, q.Line, i, err)
					cancel()
				}
				mu.Unlock()
				return
			}
			prompts[i] = p
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return prompts, nil
}

// buildTokens tokenizes the body and truncates its ids to the budget:
// prefix_ids + body_ids[:budget] + suffix_ids, as the official code does.
func (b *Builder) buildTokens(ctx context.Context, query, doc string) (Prompt, error) {
	body, cut := b.Body(query, doc)
	ids, err := b.tok.Tokenize(ctx, body)
	if err != nil {
		return Prompt{}, err
	}
	p := Prompt{CharCut: cut}
	if len(ids) > b.budget {
		ids = ids[:b.budget]
		p.Truncated = true
		if body, err = b.tok.Detokenize(ctx, ids); err != nil {
			return Prompt{}, err
		}
	}
	p.IDs = make([]int, 0, len(b.prefixIDs)+len(ids)+len(b.suffixIDs))
	p.IDs = append(append(append(p.IDs, b.prefixIDs...), ids...), b.suffixIDs...)
	p.Tokens = len(p.IDs)
	p.Text = PromptPrefix + body + PromptSuffix
	return p, nil
}

// buildChars is the character fallback: the body is cut to the budget
// converted to characters, and the token count is an estimate.
func (b *Builder) buildChars(query, doc string) Prompt {
	body, cut := b.Body(query, doc)
	body, truncated := cutRunes(body, b.budget)
	p := Prompt{Text: PromptPrefix + body + PromptSuffix, Truncated: truncated, CharCut: cut}
	p.Tokens = b.estimate(p.Text)
	return p
}

// estimate is the character fallback's token count of s.
func (b *Builder) estimate(s string) int {
	return int(math.Ceil(float64(utf8.RuneCountInString(s)) / b.opts.CharsPerToken))
}

// cutRunes cuts s to its first n runes; cut reports whether it did.
func cutRunes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false // n bytes hold at least n runes
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos], true
		}
		i++
	}
	return s, false
}
