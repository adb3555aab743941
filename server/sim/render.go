package sim

import (
	"strconv"
	"unicode/utf8"
)

// JSON is rendered by appending to byte slices: the completion hot path
// avoids reflection, and the field order is exactly vLLM's (pydantic dumps
// fields in declaration order, with nulls).

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping as Python's json
// module does with ensure_ascii=False (UTF-8 kept, control characters
// escaped).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// tokenKey is how a token appears in tokens and top_logprobs: its decoded
// text, or "token_id:N" with return_tokens_as_token_ids.
func appendTokenKey(dst []byte, id int, asID bool) []byte {
	if asID {
		dst = append(dst, `"token_id:`...)
		dst = strconv.AppendInt(dst, int64(id), 10)
		return append(dst, '"')
	}
	p, _ := theVocab.piece(id)
	return appendJSONString(dst, p)
}

// appendLogprob appends max(lp, -9999.0) as vLLM clamps it.
func appendLogprob(dst []byte, lp float64) []byte {
	if lp < -9999 {
		lp = -9999
	}
	return appendPyFloat(dst, lp)
}

// appendLogprobs appends a CompletionLogProbs object for toks, the first
// at text offset off.
func appendLogprobs(dst []byte, toks []genToken, off int, k int, asID bool) []byte {
	dst = append(dst, `{"text_offset":[`...)
	for i, t := range toks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(off), 10)
		off += len(t.text)
	}
	dst = append(dst, `],"token_logprobs":[`...)
	for i, t := range toks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, t.lpTxt...)
	}
	dst = append(dst, `],"tokens":[`...)
	for i, t := range toks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTokenKey(dst, t.id, asID)
	}
	dst = append(dst, `],"top_logprobs":[`...)
	for i, t := range toks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTopLogprobs(dst, t, k, asID)
	}
	return append(dst, "]}"...)
}

// appendTopLogprobs appends the top_logprobs dict of one position: the
// sampled token first, then the k most likely others (so k entries when
// the sampled token is among the top k, k+1 otherwise), as vLLM builds it.
func appendTopLogprobs(dst []byte, t genToken, k int, asID bool) []byte {
	dst = append(dst, '{')
	dst = appendTokenKey(dst, t.id, asID)
	dst = append(dst, ':')
	dst = append(dst, t.lpTxt...)
	for i := 0; i < k && i < len(t.top); i++ {
		c := t.top[i]
		if c.id == t.id {
			continue
		}
		dst = append(dst, ',')
		dst = appendTokenKey(dst, c.id, asID)
		dst = append(dst, ':')
		dst = append(dst, c.txt...)
	}
	return append(dst, '}')
}

// appendUsage appends a UsageInfo object; details adds
// "prompt_tokens_details":null (non-stream responses dump it, the stream's
// usage chunk excludes nones).
func appendUsage(dst []byte, prompt, completion int, details bool) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, int64(prompt), 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(prompt+completion), 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, int64(completion), 10)
	if details {
		dst = append(dst, `,"prompt_tokens_details":null`...)
	}
	return append(dst, '}')
}

// appendHead appends `{"id":"cmpl-…","object":"text_completion","created":…,"model":…,"choices":[`.
func (s *Server) appendHead(dst []byte, id string, created int64) []byte {
	dst = append(dst, `{"id":"cmpl-`...)
	dst = append(dst, id...)
	dst = append(dst, `","object":"text_completion","created":`...)
	dst = strconv.AppendInt(dst, created, 10)
	dst = append(dst, `,"model":`...)
	dst = appendJSONString(dst, s.model)
	return append(dst, `,"choices":[`...)
}

// appendErrorBody appends vLLM's nested error object.
func appendErrorBody(dst []byte, typ, message string, code int) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = appendJSONString(dst, message)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, typ)
	dst = append(dst, `,"param":null,"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	return append(dst, "}}"...)
}
