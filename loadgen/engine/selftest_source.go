package engine

import (
	"context"
	"sync"

	"loadgen/workload"
)

// SyntheticBody is a small streaming completion request body, the payload
// of the schedule and accuracy measurements.
var SyntheticBody = []byte(`{"model":"m","prompt":"Hello","max_tokens":1,"temperature":0,` +
	`"stream":true,"stream_options":{"include_usage":true}}`)

// syntheticRequest is SyntheticBody as a request.
var syntheticRequest = workload.Request{Body: SyntheticBody, Prompts: 1, MaxTokens: 1}

// truthRequest asks for the four tokens a TruthServer streams by default
// (TruthDelaysDefault).
var truthRequest = workload.Request{Body: []byte(`{"model":"m","prompt":"Hello","max_tokens":4,"temperature":0,` +
	`"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`), Prompts: 1, MaxTokens: 4}

// RerankRequest returns the first request a reranker phase sends for the
// shipped sample dataset (workload.SampleQueries) with the shipped
// profile's workload: the first query's first eight documents as Qwen3
// reranker prompts cut by characters to max_length 1500, max_tokens 1,
// logprobs 20, allowed_token_ids [yes, no], model "m" (about 9.5 kB). It is
// the request of the capacity and memory measurements, and the body
// `loadgen selftest --write-body` gives other load generators.
var RerankRequest = sync.OnceValue(func() workload.Request {
	ctx := context.Background()
	b, err := workload.NewBuilder(ctx, workload.PromptOptions{Truncation: workload.TruncationChars}, nil)
	if err != nil {
		panic(err) // the defaults are valid
	}
	prompts, err := b.Build(ctx, workload.SampleQueries()[0])
	if err != nil {
		panic(err) // the character method cannot fail
	}
	reqs, err := workload.EncodeRequests(prompts, workload.RequestOptions{Model: "m", BatchSize: 8})
	if err != nil {
		panic(err) // twenty prompts, valid options
	}
	return reqs[0]
})

// repeatSource yields one-request items of the same request, without end.
// With scored set, each item is a query of the request's prompts as
// documents, so that a Scorer scores them as in a reranker phase.
type repeatSource struct {
	req    workload.Request
	scored bool
	i      int
}

// Next returns the next item; there is always one.
func (s *repeatSource) Next(context.Context) (workload.Item, error) {
	it := workload.Item{Query: s.i, Requests: []workload.Request{s.req}}
	if s.scored {
		it.Documents, it.TopN = s.req.Prompts, 6
	}
	s.i++
	return it, nil
}
