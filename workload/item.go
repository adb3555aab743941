// Package workload turns a dataset into the requests the offline reranker
// benchmark sent, but online: it reads datasets (CSV, JSONL) as streams,
// builds Qwen3-Reranker prompts, truncates them to a token budget, fans each
// query out into completion requests, and turns the returned logprobs into
// scores and rankings. It also has a synthetic source for plain generation.
//
// It imports nothing else of loadgen's; the load engine consumes its Item.
package workload

import "context"

// Request is one completion request of a query: a JSON body ready to POST to
// /v1/completions, encoded once when the item is built.
type Request struct {
	// Body is the JSON request body (stream:true with include_usage).
	Body []byte
	// Prompts is the number of prompts in Body; the server answers with
	// one choice per prompt, choice index i being document Offset+i.
	Prompts int
	// Offset is the index, within the query, of the first prompt's document.
	Offset int
	// MaxTokens is Body's max_tokens: each choice streams at most this
	// many chunks (0: unknown, not checked).
	MaxTokens int
}

// Item is one arrival: a query fanned out into one or more requests
// (ceil(search_num/batch_size) for a rerank query, one for synthetic load).
type Item struct {
	// Query is the query's index in the dataset (0-based, stable across
	// cycles).
	Query int
	// Cycle counts how many times the dataset wrapped before this item.
	Cycle int
	// Requests are sent together when the item's arrival is due.
	Requests []Request
	// Documents is the number of documents scored (0 for synthetic items).
	Documents int
	// Relevant lists relevant document indices when the dataset has
	// labels, for NDCG and MRR.
	Relevant []int
	// TopN is how many ranked documents the query keeps.
	TopN int
}

// Source yields items in order. Next returns io.EOF when there are no more
// items; a source that cycles through its dataset never does.
// Implementations need not be safe for concurrent use.
type Source interface {
	Next(ctx context.Context) (Item, error)
}
