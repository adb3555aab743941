package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Cache limits of a RerankSource: a dataset within both is built once and
// its items reused on every cycle.
const (
	DefaultCacheQueries = 10000
	DefaultCacheBytes   = 256 << 20
	// DefaultPrefetch is the number of items a streaming source builds
	// ahead of the dispatcher.
	DefaultPrefetch = 32
)

// RerankOptions configure a RerankSource.
type RerankOptions struct {
	// Open opens the dataset; it is called again for every cycle of a
	// dataset too large to cache. Typically
	// func() (Dataset, error) { return OpenDataset(path, "", opts) }.
	Open func() (Dataset, error)
	// Prompt configures prompt building and truncation.
	Prompt PromptOptions
	// Request shapes the requests. TokenIDPrompts is set by the source:
	// token ids with the tokenize method unless TextPrompts.
	Request RequestOptions
	// TopN is how many ranked documents a query keeps (the offline
	// top_n); 0 keeps all.
	TopN int
	// Tokenizer is the server's tokenizer, or nil (character fallback).
	Tokenizer Tokenizer
	// Cycle restarts the dataset at its end instead of returning io.EOF.
	Cycle bool
	// TextPrompts sends prompt text even with the tokenize method (the
	// offline script's way: decode the truncated ids, send the text).
	TextPrompts bool
	// CacheQueries and CacheBytes bound the cached dataset (queries,
	// request body bytes); 0 takes DefaultCacheQueries and
	// DefaultCacheBytes, a negative CacheQueries never caches.
	CacheQueries int
	CacheBytes   int64
	// Prefetch is the read-ahead of a streaming source; 0 is
	// DefaultPrefetch.
	Prefetch int
}

// PromptStats count the prompts of the first pass over the dataset.
type PromptStats struct {
	Prompts   int
	Truncated int   // body cut to fit max_length tokens
	CharCut   int   // body cut to max_chars characters
	MaxTokens int   // longest prompt, in tokens
	Tokens    int64 // all prompts, in tokens
}

// RerankSource is the Source of a rerank phase: each dataset query becomes an
// Item of ceil(documents/batch_size) requests, built off the hot path.
//
// A dataset that fits the cache (DefaultCacheQueries queries and
// DefaultCacheBytes of request bodies) is built entirely by
// NewRerankSource, calling /tokenize once per document, and its items are
// reused on every cycle: Next only copies an Item, and memory is the size of
// the dataset's request bodies. A larger dataset is streamed: a goroutine
// builds items Prefetch ahead of the dispatcher and reopens the dataset to
// cycle; with a server tokenizer its /tokenize calls then run during the
// phase and add (light) load to the server under test, which Warnings says.
//
// Next is for one goroutine (the dispatcher); Cycles, Warnings and
// PromptStats may be called from any goroutine. Call Close when done.
type RerankSource struct {
	o       RerankOptions
	builder *Builder
	req     RequestOptions

	// cached mode
	items []Item
	pos   int
	cycle int

	// streaming mode
	parent context.Context // bounds the prefetcher, across Rewinds
	stop   context.CancelFunc
	ch     chan result
	exited chan struct{}
	err    error // sticky error of Next

	cycles atomic.Int64

	mu       sync.Mutex
	queries  int // queries of the first pass
	stats    PromptStats
	dsWarn   []string
	streamed bool
	passDone bool // the first pass is over: stop counting
}

type result struct {
	item Item
	err  error
}

var _ Source = (*RerankSource)(nil)

// NewRerankSource opens the dataset, prepares prompt building (probing the
// tokenizer as NewBuilder does) and builds the dataset's items, or the first
// cache-full of them when it is too large to cache. ctx bounds that work
// and the prefetcher of a streaming source, so it must outlive the source's
// use (pass the run's context, not a startup timeout).
func NewRerankSource(ctx context.Context, o RerankOptions) (*RerankSource, error) {
	if o.Open == nil {
		return nil, errors.New("rerank source: no dataset")
	}
	if o.CacheQueries == 0 {
		o.CacheQueries = DefaultCacheQueries
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.Prefetch <= 0 {
		o.Prefetch = DefaultPrefetch
	}
	b, err := NewBuilder(ctx, o.Prompt, o.Tokenizer)
	if err != nil {
		return nil, err
	}
	req, err := o.Request.withDefaults()
	if err != nil {
		return nil, err
	}
	req.TokenIDPrompts = b.Method() == TruncationTokenize && !o.TextPrompts
	s := &RerankSource{o: o, builder: b, req: req}
	return s, s.load(ctx)
}

// load builds the cache, or starts streaming when the dataset overflows it.
func (s *RerankSource) load(ctx context.Context) error {
	ds, err := s.o.Open()
	if err != nil {
		return err
	}
	var (
		items []Item
		size  int64
	)
	for {
		q, err := ds.Next()
		if err == io.EOF {
			s.finishPass(ds)
			s.items = items
			return ds.Close()
		}
		if err != nil {
			ds.Close()
			return err
		}
		it, n, err := s.build(ctx, q, 0)
		if err != nil {
			ds.Close()
			return err
		}
		items = append(items, it)
		size += n
		if len(items) > s.o.CacheQueries || size > s.o.CacheBytes {
			s.startStreaming(ctx, items, ds)
			return nil
		}
	}
}

// build turns a query into an Item and counts its prompts on the first pass.
// It returns the item's request bytes.
func (s *RerankSource) build(ctx context.Context, q Query, cycle int) (Item, int64, error) {
	prompts, err := s.builder.Build(ctx, q)
	if err != nil {
		return Item{}, 0, err
	}
	reqs, err := EncodeRequests(prompts, s.req)
	if err != nil {
		return Item{}, 0, fmt.Errorf("query %d (line %d): %w", q.Index, q.Line, err)
	}
	var size int64
	for _, r := range reqs {
		size += int64(len(r.Body))
	}
	s.mu.Lock()
	if cycle == 0 && !s.passDone {
		s.queries++
		for _, p := range prompts {
			s.stats.Prompts++
			s.stats.Tokens += int64(p.Tokens)
			s.stats.MaxTokens = max(s.stats.MaxTokens, p.Tokens)
			if p.Truncated {
				s.stats.Truncated++
			}
			if p.CharCut {
				s.stats.CharCut++
			}
		}
	}
	s.mu.Unlock()
	topN := s.o.TopN
	if topN <= 0 || topN > len(q.Documents) {
		topN = len(q.Documents)
	}
	return Item{Query: q.Index, Cycle: cycle, Requests: reqs, Documents: len(q.Documents),
		Relevant: q.Relevant, TopN: topN}, size, nil
}

// finishPass records the dataset's warnings at the end of the first pass.
func (s *RerankSource) finishPass(ds Dataset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.passDone {
		return
	}
	s.passDone = true
	if w, ok := ds.(Warner); ok {
		s.dsWarn = w.Warnings()
	}
}

// Next implements Source.
func (s *RerankSource) Next(ctx context.Context) (Item, error) {
	if s.err != nil {
		return Item{}, s.err
	}
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	if s.ch == nil {
		if s.pos == len(s.items) {
			if !s.o.Cycle {
				return Item{}, io.EOF
			}
			s.pos = 0
			s.cycle++
			s.cycles.Store(int64(s.cycle))
		}
		it := s.items[s.pos]
		it.Cycle = s.cycle
		s.pos++
		return it, nil
	}
	select {
	case r, ok := <-s.ch:
		if !ok {
			s.err = errClosed
			if err := s.parent.Err(); err != nil {
				s.err = fmt.Errorf("rerank source: %w", err)
			}
			return Item{}, s.err
		}
		if r.err != nil {
			s.err = r.err
			return Item{}, r.err
		}
		if int64(r.item.Cycle) > s.cycles.Load() {
			s.cycles.Store(int64(r.item.Cycle))
		}
		return r.item, nil
	case <-ctx.Done():
		return Item{}, ctx.Err()
	}
}

// Method returns the truncation method: TruncationTokenize or
// TruncationChars. Record it in the phase result (prompt_method).
func (s *RerankSource) Method() string { return s.builder.Method() }

// Cycles returns how many times the dataset wrapped so far, as seen by Next.
func (s *RerankSource) Cycles() int { return int(s.cycles.Load()) }

// Cached reports whether the dataset's items are cached (not streamed).
func (s *RerankSource) Cached() bool { return s.ch == nil }

// Queries returns the number of queries in the dataset; for a streamed
// dataset, those read so far in the first pass.
func (s *RerankSource) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// PromptStats returns the counts of the first pass's prompts (so far, for a
// streamed dataset).
func (s *RerankSource) PromptStats() PromptStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Warnings returns what the phase result should say about the workload: rows
// padded or skipped, the character fallback and streaming with /tokenize.
// Cycling is counted by Cycles; whether it matters (prefix caching on) is
// for the report to say.
func (s *RerankSource) Warnings() []string {
	s.mu.Lock()
	w := append([]string(nil), s.dsWarn...)
	streamed := s.streamed
	s.mu.Unlock()
	if why := s.builder.Fallback(); why != "" {
		w = append(w, fmt.Sprintf("prompts truncated by the character fallback (~%g characters per token) because %s: token counts are estimates",
			s.builder.opts.CharsPerToken, why))
	}
	if streamed && s.builder.Method() == TruncationTokenize {
		w = append(w, fmt.Sprintf("the dataset exceeds the prompt cache (%d queries or %d MiB): prompts are built during the phase, and their /tokenize calls add load to the server",
			s.o.CacheQueries, s.o.CacheBytes>>20))
	}
	return w
}
