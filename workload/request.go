package workload

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Request defaults, from the offline benchmark's SamplingParams.
const (
	DefaultLogprobs  = 20
	DefaultMaxTokens = 1
)

// RequestOptions shape the completion requests of a query. Zero values take
// the defaults.
type RequestOptions struct {
	// Model is the served model name ("" leaves "model" out, and vLLM
	// uses its only model).
	Model string
	// BatchSize is the number of prompts per request (the offline
	// batch_size); 0 is 1, one request per document.
	BatchSize int
	// MaxTokens is 0 for DefaultMaxTokens (one token: the yes/no answer).
	MaxTokens int
	// Logprobs is the number of top logprobs; 0 is DefaultLogprobs.
	Logprobs int
	// YesID and NoID go into allowed_token_ids; 0 is the Qwen3 id.
	YesID, NoID int
	// ExtraBody is merged into every body last, so it may add vLLM-only
	// fields (return_tokens_as_token_ids, priority, …) or override ours.
	ExtraBody map[string]any
	// TokenIDPrompts sends each prompt as its token ids
	// ("prompt": [[ids…], …]) instead of text. Every prompt must then
	// have IDs.
	TokenIDPrompts bool
}

func (o RequestOptions) withDefaults() (RequestOptions, error) {
	if o.BatchSize == 0 {
		o.BatchSize = 1
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.Logprobs == 0 {
		o.Logprobs = DefaultLogprobs
	}
	if o.YesID == 0 {
		o.YesID = Qwen3YesID
	}
	if o.NoID == 0 {
		o.NoID = Qwen3NoID
	}
	switch {
	case o.BatchSize < 0:
		return o, fmt.Errorf("batch_size %d: must be positive", o.BatchSize)
	case o.MaxTokens < 0:
		return o, fmt.Errorf("max_tokens %d: must be positive", o.MaxTokens)
	case o.Logprobs < 0:
		return o, fmt.Errorf("logprobs %d: must be positive", o.Logprobs)
	case o.YesID < 0 || o.NoID < 0:
		return o, fmt.Errorf("yes/no token ids %d/%d: must not be negative", o.YesID, o.NoID)
	}
	return o, nil
}

// StreamOptions is the body's stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// CompletionBody is the JSON body of a /v1/completions request, our own
// type rather than go-openai's CompletionRequest: that one drops
// temperature 0 (omitempty on a float, so the server's default temperature
// applies) and has no field for vLLM's allowed_token_ids or any other
// vLLM-only field. No field here is omitempty except model and the optional
// sampling fields, so what we mean is what the server gets.
type CompletionBody struct {
	Model string `json:"model,omitempty"`
	// Prompt is []string (text prompts) or [][]int (token ids); one
	// choice per prompt comes back, index i for Prompt[i].
	Prompt          any           `json:"prompt"`
	MaxTokens       int           `json:"max_tokens"`
	Temperature     float64       `json:"temperature"`
	Logprobs        *int          `json:"logprobs,omitempty"`
	AllowedTokenIDs []int         `json:"allowed_token_ids,omitempty"`
	IgnoreEOS       bool          `json:"ignore_eos,omitempty"`
	Stream          bool          `json:"stream"`
	StreamOptions   StreamOptions `json:"stream_options"`
}

// EncodeRequests fans prompts out into ceil(len(prompts)/BatchSize) request
// bodies, each with up to BatchSize prompts, max_tokens 1, temperature 0,
// logprobs 20, allowed_token_ids [yes, no], stream true and
// stream_options.include_usage true, then ExtraBody merged over them.
// Request.Offset is the index of a body's first prompt.
func EncodeRequests(prompts []Prompt, o RequestOptions) ([]Request, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(prompts) == 0 {
		return nil, errors.New("no prompts to send")
	}
	reqs := make([]Request, 0, (len(prompts)+o.BatchSize-1)/o.BatchSize)
	for off := 0; off < len(prompts); off += o.BatchSize {
		batch := prompts[off:min(off+o.BatchSize, len(prompts))]
		body := CompletionBody{
			Model:           o.Model,
			MaxTokens:       o.MaxTokens,
			Logprobs:        &o.Logprobs,
			AllowedTokenIDs: []int{o.YesID, o.NoID},
			Stream:          true,
			StreamOptions:   StreamOptions{IncludeUsage: true},
		}
		if o.TokenIDPrompts {
			ids := make([][]int, len(batch))
			for i, p := range batch {
				if len(p.IDs) == 0 {
					return nil, fmt.Errorf("prompt %d has no token ids: token-id prompts need the tokenize method", off+i)
				}
				ids[i] = p.IDs
			}
			body.Prompt = ids
		} else {
			texts := make([]string, len(batch))
			for i, p := range batch {
				texts[i] = p.Text
			}
			body.Prompt = texts
		}
		data, err := encodeBody(body, o.ExtraBody)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, Request{Body: data, Prompts: len(batch), Offset: off, MaxTokens: o.MaxTokens})
	}
	return reqs, nil
}

// encodeBody marshals body with extra merged over its fields. Without extra
// the fields keep their declared order; with it, keys are sorted (the
// encoding of a map).
func encodeBody(body CompletionBody, extra map[string]any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encoding request body: %w", err)
	}
	if len(extra) == 0 {
		return data, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("encoding request body: %w", err)
	}
	for k, v := range extra {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("extra_body %q: %w", k, err)
		}
		fields[k] = raw
	}
	data, err = json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encoding request body: %w", err)
	}
	return data, nil
}
