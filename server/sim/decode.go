package sim

import "loadgen/loadgen/jsonscan"

// decodeCompletion decodes a completion request body with a
// jsonscan.Scanner: the fields the simulator reads, without reflection,
// skipping the others. Strings of the prompt alias body (valid only while
// body is); everything else is copied. A value of the wrong type is a
// *jsonscan.TypeError naming the field (the first one, once the whole body
// has been read); broken JSON, or a body that is not an object, is
// jsonscan.ErrSyntax.
func decodeCompletion(body []byte, req *completionRequest) error {
	var s jsonscan.Scanner
	intp := func(field string, dst **int) error {
		if s.Null() {
			*dst = nil
			return nil
		}
		n, err := s.Int(field)
		*dst = &n
		return err
	}
	boolp := func(field string, dst **bool) error {
		if s.Null() {
			*dst = nil
			return nil
		}
		b, err := s.Bool(field)
		*dst = &b
		return err
	}
	strp := func(field string, dst **string) error {
		if s.Null() {
			*dst = nil
			return nil
		}
		v, err := s.String(field, false)
		*dst = &v
		return err
	}
	flag := func(field string, dst *bool) error {
		var b *bool
		err := boolp(field, &b)
		*dst = b != nil && *b
		return err
	}
	return s.Decode(body, func() error {
		if s.Peek() != '{' {
			return jsonscan.ErrSyntax
		}
		return s.Object("", func(key string) error {
			switch key {
			case "model":
				return strp("model", &req.Model)
			case "prompt":
				return decodePrompt(&s, req)
			case "max_tokens":
				return intp("max_tokens", &req.MaxTokens)
			case "temperature":
				if s.Null() {
					req.Temperature = nil
					return nil
				}
				f, err := s.Float("temperature")
				req.Temperature = &f
				return err
			case "logprobs":
				return intp("logprobs", &req.Logprobs)
			case "echo":
				return flag("echo", &req.Echo)
			case "stream":
				return flag("stream", &req.Stream)
			case "stream_options":
				if s.Null() {
					req.StreamOptions = nil
					return nil
				}
				so := &streamOptions{}
				req.StreamOptions = so
				return s.Object("stream_options", func(k string) error {
					switch k {
					case "include_usage":
						return boolp("stream_options.include_usage", &so.IncludeUsage)
					case "continuous_usage_stats":
						return flag("stream_options.continuous_usage_stats", &so.ContinuousUsageStats)
					}
					return s.Skip()
				})
			case "allowed_token_ids":
				if s.Null() {
					req.AllowedTokenIDs = nil
					return nil
				}
				ids, err := s.Ints("allowed_token_ids", nil)
				req.AllowedTokenIDs = &ids
				return err
			case "return_tokens_as_token_ids":
				return boolp("return_tokens_as_token_ids", &req.ReturnTokensAsTokenIDs)
			case "n":
				return intp("n", &req.N)
			case "suffix":
				return strp("suffix", &req.Suffix)
			case "prompt_logprobs":
				return intp("prompt_logprobs", &req.PromptLogprobs)
			case "truncate_prompt_tokens":
				return intp("truncate_prompt_tokens", &req.TruncatePromptTokens)
			case "seed":
				if s.Null() {
					req.Seed = nil
					return nil
				}
				n, err := s.Int64("seed")
				req.Seed = &n
				return err
			case "request_id":
				var p *string
				err := strp("request_id", &p)
				req.RequestID = ""
				if p != nil {
					req.RequestID = *p
				}
				return err
			}
			return s.Skip()
		})
	})
}

// promptType is the type error of a prompt that is none of its forms.
var promptType = &jsonscan.TypeError{Field: "prompt", Want: "string, list of strings, list of integers or list of lists of integers"}

// decodePrompt reads the prompt as encoding/json would decode it into the
// first of these that fits: a string, a non-empty list of strings, a list
// of integers, a non-empty list of lists of integers (a null element is
// the type's zero value: "", 0 or an empty list). An empty list is
// promptEmpty.
func decodePrompt(s *jsonscan.Scanner, req *completionRequest) error {
	req.promptSet, req.promptEmpty = false, false
	req.promptStrs, req.promptIDs = req.promptStrs[:0], req.promptIDs[:0]
	switch s.Peek() {
	case 'n':
		if s.Null() {
			return nil
		}
	case '"':
		v, err := s.String("prompt", true)
		if err != nil {
			return err
		}
		req.promptSet = true
		req.promptStrs = append(req.promptStrs, v)
		return nil
	case '[':
	default:
		if err := s.Skip(); err != nil {
			return err
		}
		return promptType
	}
	// The element type is that of the first non-null element: '"', '0'
	// (a number) or '['; 0 while only nulls were seen.
	var kind byte
	nulls := 0
	var flat []int
	appendZero := func() {
		switch kind {
		case '"':
			req.promptStrs = append(req.promptStrs, "")
		case '0':
			flat = append(flat, 0)
		case '[':
			req.promptIDs = append(req.promptIDs, nil)
		}
	}
	err := s.Array("prompt", func(int) error {
		if s.Null() {
			if kind == 0 {
				nulls++
			}
			appendZero()
			return nil
		}
		k := s.Peek()
		if k == '-' || k >= '0' && k <= '9' {
			k = '0'
		}
		if kind == 0 {
			kind = k
			for range nulls {
				appendZero()
			}
		}
		switch {
		case k != kind:
		case kind == '"':
			v, err := s.String("prompt", true)
			req.promptStrs = append(req.promptStrs, v)
			return err
		case kind == '0':
			n, err := s.Int("prompt")
			flat = append(flat, n)
			return err
		case kind == '[':
			ids, err := s.Ints("prompt", nil)
			req.promptIDs = append(req.promptIDs, ids)
			return err
		}
		return s.Mismatch("prompt", promptType.Want)
	})
	if err != nil {
		if _, ok := err.(*jsonscan.TypeError); ok {
			return promptType
		}
		return err
	}
	req.promptSet = true
	switch {
	case kind == 0 && nulls > 0: // only nulls: a list of empty strings
		kind = '"'
		for range nulls {
			appendZero()
		}
	case kind == 0:
		req.promptEmpty = true
	case kind == '0':
		req.promptIDs = append(req.promptIDs, flat)
	}
	return nil
}
