package sim

// decodeCompletion decodes a completion request body. Strings of the
// prompt alias body (valid only while body is); everything else is copied.
func decodeCompletion(body []byte, req *completionRequest) error {
	s := &jsonScanner{b: body}
	intp := func(field string, dst **int) error {
		if s.null() {
			*dst = nil
			return nil
		}
		n, err := s.int(field)
		*dst = &n
		return err
	}
	boolp := func(field string, dst **bool) error {
		if s.null() {
			*dst = nil
			return nil
		}
		b, err := s.bool(field)
		*dst = &b
		return err
	}
	strp := func(field string, dst **string) error {
		if s.null() {
			*dst = nil
			return nil
		}
		if s.peek() != '"' {
			if err := s.skip(); err != nil {
				return err
			}
			return &typeError{field, "string"}
		}
		v, err := s.str(false)
		*dst = &v
		return err
	}
	var firstTypeErr error
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "model":
			err = strp("model", &req.Model)
		case "prompt":
			err = decodePrompt(s, req)
		case "max_tokens":
			err = intp("max_tokens", &req.MaxTokens)
		case "temperature":
			if s.null() {
				req.Temperature = nil
				return nil
			}
			var f float64
			f, err = s.float("temperature")
			req.Temperature = &f
		case "logprobs":
			err = intp("logprobs", &req.Logprobs)
		case "echo":
			var b *bool
			err = boolp("echo", &b)
			req.Echo = b != nil && *b
		case "stream":
			var b *bool
			err = boolp("stream", &b)
			req.Stream = b != nil && *b
		case "stream_options":
			if s.null() {
				req.StreamOptions = nil
				return nil
			}
			if s.peek() != '{' {
				if err := s.skip(); err != nil {
					return err
				}
				err = &typeError{"stream_options", "object"}
				break
			}
			so := &streamOptions{}
			req.StreamOptions = so
			err = s.object(func(k string) error {
				switch k {
				case "include_usage":
					return boolp("stream_options.include_usage", &so.IncludeUsage)
				case "continuous_usage_stats":
					var b *bool
					err := boolp("stream_options.continuous_usage_stats", &b)
					so.ContinuousUsageStats = b != nil && *b
					return err
				}
				return s.skip()
			})
		case "allowed_token_ids":
			if s.null() {
				req.AllowedTokenIDs = nil
				return nil
			}
			var ids []int
			ids, err = s.ints("allowed_token_ids", nil)
			req.AllowedTokenIDs = &ids
		case "return_tokens_as_token_ids":
			err = boolp("return_tokens_as_token_ids", &req.ReturnTokensAsTokenIDs)
		case "n":
			err = intp("n", &req.N)
		case "suffix":
			err = strp("suffix", &req.Suffix)
		case "prompt_logprobs":
			err = intp("prompt_logprobs", &req.PromptLogprobs)
		case "truncate_prompt_tokens":
			err = intp("truncate_prompt_tokens", &req.TruncatePromptTokens)
		case "seed":
			if s.null() {
				req.Seed = nil
				return nil
			}
			var n int
			n, err = s.int("seed")
			v := int64(n)
			req.Seed = &v
		case "request_id":
			var p *string
			err = strp("request_id", &p)
			if p != nil {
				req.RequestID = *p
			}
		default:
			err = s.skip()
		}
		if te, ok := err.(*typeError); ok {
			if firstTypeErr == nil {
				firstTypeErr = te
			}
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if !s.end() {
		return errSyntax
	}
	return firstTypeErr
}

// decodePrompt reads a string, a list of strings, a list of token ids or a
// list of lists of token ids.
func decodePrompt(s *jsonScanner, req *completionRequest) error {
	req.promptSet = false
	req.promptStrs, req.promptIDs = req.promptStrs[:0], req.promptIDs[:0]
	bad := &typeError{"prompt", "string, list of strings, list of integers or list of lists of integers"}
	switch s.peek() {
	case 'n':
		return s.literal("null")
	case '"':
		v, err := s.str(true)
		if err != nil {
			return err
		}
		req.promptSet = true
		req.promptStrs = append(req.promptStrs, v)
		return nil
	case '[':
	default:
		if err := s.skip(); err != nil {
			return err
		}
		return bad
	}
	req.promptSet = true
	s.i++
	if s.consume(']') {
		req.promptEmpty = true
		return nil
	}
	kind := s.peek()
	numeric := func(c byte) bool { return c == '-' || c >= '0' && c <= '9' }
	var flat []int
	var typeErr error
	for {
		c := s.peek()
		switch {
		case kind == '"' && c == '"':
			v, err := s.str(true)
			if err != nil {
				return err
			}
			req.promptStrs = append(req.promptStrs, v)
		case kind == '[' && c == '[':
			ids, err := s.ints("prompt", nil)
			if _, ok := err.(*typeError); ok {
				typeErr = bad
			} else if err != nil {
				return err
			}
			req.promptIDs = append(req.promptIDs, ids)
		case numeric(kind) && numeric(c):
			n, err := s.int("prompt")
			if _, ok := err.(*typeError); ok {
				typeErr = bad
			} else if err != nil {
				return err
			}
			flat = append(flat, n)
		default:
			if err := s.skip(); err != nil {
				return err
			}
			typeErr = bad
		}
		if s.consume(']') {
			break
		}
		if !s.consume(',') {
			return errSyntax
		}
	}
	if flat != nil {
		req.promptIDs = append(req.promptIDs, flat)
	}
	return typeErr
}
