package sim

import (
	"errors"
	"fmt"
	"net/http"

	"loadgen/loadgen/jsonscan"
)

// completionRequest is the part of vLLM's CompletionRequest the simulator
// reads. Unknown fields are accepted and ignored, as vLLM does.
type completionRequest struct {
	Model                  *string        `json:"model"`
	MaxTokens              *int           `json:"max_tokens"`
	Temperature            *float64       `json:"temperature"`
	Logprobs               *int           `json:"logprobs"`
	Echo                   bool           `json:"echo"`
	Stream                 bool           `json:"stream"`
	StreamOptions          *streamOptions `json:"stream_options"`
	AllowedTokenIDs        *[]int         `json:"allowed_token_ids"`
	ReturnTokensAsTokenIDs *bool          `json:"return_tokens_as_token_ids"`
	N                      *int           `json:"n"`
	Suffix                 *string        `json:"suffix"`
	PromptLogprobs         *int           `json:"prompt_logprobs"`
	TruncatePromptTokens   *int           `json:"truncate_prompt_tokens"`
	Seed                   *int64         `json:"seed"`
	RequestID              string         `json:"request_id"`

	// The prompt as decoded by decodePrompt: strings (aliasing the body)
	// or token-id lists.
	promptSet   bool
	promptEmpty bool
	promptStrs  []string
	promptIDs   [][]int
}

type streamOptions struct {
	IncludeUsage         *bool `json:"include_usage"`
	ContinuousUsageStats bool  `json:"continuous_usage_stats"`
}

// apiError is an error response in vLLM's nested shape.
type apiError struct {
	status  int
	typ     string
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, a ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "BadRequestError", message: fmt.Sprintf(format, a...)}
}

// validationError is pydantic's 400 for a request that fails a model
// validator (vLLM reports it with type "Bad Request").
func validationError(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "Bad Request",
		message: "1 validation error for CompletionRequest\n  Value error, " + msg + " [type=value_error]"}
}

// params is a validated completion request.
type params struct {
	stream         bool
	includeUsage   bool
	continuous     bool
	maxTokens      int
	logprobs       int // -1 = none
	temperature    float64
	allowed        []int
	tokenIDs       bool // return_tokens_as_token_ids
	seed           uint64
	prompts        []promptIn
	requestIDField string
}

// promptIn is one prompt: its token ids and text, and once validated its
// promptInfo.
type promptIn struct {
	ids  []int
	text string
	info *promptInfo
}

// parseCompletion decodes and validates a completion request body the
// way vLLM's protocol and serving layers do, in the same order, so the
// same inputs fail with the same messages.
func (s *Server) parseCompletion(body []byte) (params, *apiError) {
	var p params
	var req completionRequest
	if err := decodeCompletion(body, &req); err != nil {
		var te *jsonscan.TypeError
		if errors.As(err, &te) {
			return p, &apiError{status: http.StatusBadRequest, typ: "Bad Request",
				message: fmt.Sprintf("1 validation error for CompletionRequest\n%s\n  Input should be a valid %s", te.Field, te.Want)}
		}
		return p, &apiError{status: http.StatusBadRequest, typ: "Bad Request", message: "JSON decode error: " + err.Error()}
	}
	// Model validators (pydantic, before the handler runs).
	if !req.promptSet {
		return p, validationError("At least one of `prompt` or `prompt_embeds` must be set.")
	}
	if req.PromptLogprobs != nil && req.Stream && *req.PromptLogprobs > 0 {
		return p, validationError("`prompt_logprobs` are not available when `stream=True`.")
	}
	if req.Logprobs != nil && *req.Logprobs < 0 {
		return p, validationError("`logprobs` must be a positive value.")
	}
	if req.StreamOptions != nil && !req.Stream {
		return p, validationError("Stream options can only be defined when `stream=True`.")
	}
	// Serving layer.
	if req.Model != nil && !s.names[*req.Model] {
		return p, &apiError{status: http.StatusNotFound, typ: "NotFoundError",
			message: "The model `" + *req.Model + "` does not exist."}
	}
	if req.Suffix != nil {
		return p, badRequest("suffix is not currently supported")
	}
	if req.Echo {
		return p, badRequest("echo is not supported by the simulated vllm-neuron server")
	}
	if req.N != nil && *req.N != 1 {
		return p, badRequest("n > 1 is not supported by the simulated vllm-neuron server")
	}
	if req.PromptLogprobs != nil {
		return p, badRequest("prompt_logprobs is not supported by the simulated vllm-neuron server")
	}
	if req.promptEmpty {
		return p, badRequest("Either prompt or prompt_embeds must be provided and non-empty.")
	}
	prompts := make([]promptIn, 0, len(req.promptStrs)+len(req.promptIDs))
	for _, text := range req.promptStrs {
		prompts = append(prompts, promptFromText(text))
	}
	for _, ids := range req.promptIDs {
		if len(ids) == 0 {
			return p, badRequest("Either prompt or prompt_embeds must be provided and non-empty.")
		}
		prompts = append(prompts, promptIn{ids: ids})
	}
	p.maxTokens = 16
	if req.MaxTokens != nil {
		p.maxTokens = *req.MaxTokens
	}
	if p.maxTokens < 1 {
		return p, badRequest("max_tokens must be at least 1, got %d.", p.maxTokens)
	}
	for i := range prompts {
		pr := &prompts[i]
		if req.TruncatePromptTokens != nil {
			if t := *req.TruncatePromptTokens; t >= 1 && len(pr.ids) > t {
				pr.ids = pr.ids[len(pr.ids)-t:]
				pr.text, pr.info = "", nil
			}
		}
		n := len(pr.ids)
		if n+p.maxTokens > s.opts.MaxModelLen {
			return p, badRequest("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
				s.opts.MaxModelLen, n+p.maxTokens, n, p.maxTokens)
		}
	}
	p.logprobs = -1
	if req.Logprobs != nil {
		p.logprobs = *req.Logprobs
		if p.logprobs > s.opts.MaxLogprobs {
			return p, badRequest("Requested sample logprobs of %d, which is greater than max allowed: %d", p.logprobs, s.opts.MaxLogprobs)
		}
	}
	if req.Temperature != nil {
		if *req.Temperature < 0 {
			return p, badRequest("temperature must be non-negative, got %s.", pyFloat(*req.Temperature))
		}
		p.temperature = *req.Temperature
	} else {
		p.temperature = 1.0 // vLLM's fallback when generation_config sets none
	}
	if req.AllowedTokenIDs != nil {
		if len(*req.AllowedTokenIDs) == 0 {
			return p, badRequest("allowed_token_ids is not None and empty!")
		}
		for _, id := range *req.AllowedTokenIDs {
			if id < 0 || id >= VocabSize {
				return p, badRequest("allowed_token_ids contains out-of-vocab token id!")
			}
		}
		p.allowed = *req.AllowedTokenIDs
	}
	for i := range prompts {
		if prompts[i].info == nil {
			text, err := Detokenize(prompts[i].ids)
			if err != nil {
				return p, badRequest("%s", err.Error())
			}
			prompts[i].text = text
			prompts[i].info = newPromptInfo(text, prompts[i].ids)
		}
	}
	p.stream = req.Stream
	if req.StreamOptions != nil {
		p.includeUsage = req.StreamOptions.IncludeUsage == nil || *req.StreamOptions.IncludeUsage
		p.continuous = req.StreamOptions.ContinuousUsageStats
	}
	p.tokenIDs = s.opts.ReturnTokensAsTokenIDs
	if req.ReturnTokensAsTokenIDs != nil {
		p.tokenIDs = *req.ReturnTokensAsTokenIDs || s.opts.ReturnTokensAsTokenIDs
	}
	if req.Seed != nil {
		p.seed = uint64(*req.Seed)
	}
	p.prompts = prompts
	p.requestIDField = req.RequestID
	return p, nil
}
