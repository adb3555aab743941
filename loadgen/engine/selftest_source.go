package engine

import (
	"context"

	"loadgen/workload"
)

// SyntheticBody is a small streaming completion request body, the payload
// of the measurement helpers.
var SyntheticBody = []byte(`{"model":"m","prompt":"Hello","max_tokens":1,"temperature":0,` +
	`"stream":true,"stream_options":{"include_usage":true}}`)

// repeatSource yields one-request items with the same body, without end.
type repeatSource struct {
	body []byte
	i    int
}

// Next returns the next item; there is always one.
func (s *repeatSource) Next(context.Context) (workload.Item, error) {
	it := workload.Item{Query: s.i, Requests: []workload.Request{{Body: s.body, Prompts: 1}}}
	s.i++
	return it, nil
}
