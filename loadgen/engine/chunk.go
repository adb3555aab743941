package engine

import (
	"encoding/json"
	"errors"
	"fmt"
)

// chunk is what the client needs from one completions stream chunk. It is
// filled by a small hand-written scanner instead of encoding/json: the hot
// path reads only the top-level keys "choices" (how many, and each choice's
// "index"), "usage" (prompt_tokens, completion_tokens) and "error", and skips
// every other value without decoding it. Fuzzing checks it against
// encoding/json on valid input.
type chunk struct {
	// indices holds each choice's "index" (its position when absent);
	// len(indices) is the number of choices.
	indices []int
	// choices is the raw "choices" array (nil when absent or null).
	choices []byte
	// usage is set when "usage" is a non-null object.
	usage                          bool
	promptTokens, completionTokens int64
	// errRaw is the raw "error" value when present and not null.
	errRaw []byte
}

var (
	errTruncated = errors.New("truncated JSON")
	errSyntax    = errors.New("malformed JSON")
)

// parse fills c from one JSON object. Slices alias b.
func (c *chunk) parse(b []byte) error {
	c.indices, c.choices, c.usage, c.promptTokens, c.completionTokens, c.errRaw =
		c.indices[:0], nil, false, 0, 0, nil
	i, err := walkObject(b, skipWS(b, 0), func(key []byte, b []byte, i int) (int, error) {
		switch string(key) {
		case "choices":
			return c.parseChoices(b, i)
		case "usage":
			return c.parseUsage(b, i)
		case "error":
			j, err := skipValue(b, i)
			if err != nil {
				return j, err
			}
			c.errRaw = nil
			if !isNull(b[i:j]) {
				c.errRaw = b[i:j]
			}
			return j, nil
		}
		return skipValue(b, i)
	})
	if err != nil {
		return err
	}
	if i = skipWS(b, i); i != len(b) {
		return fmt.Errorf("%w: data after the object", errSyntax)
	}
	return nil
}

func (c *chunk) parseChoices(b []byte, i int) (int, error) {
	c.indices, c.choices = c.indices[:0], nil
	if isNullAt(b, i) {
		return i + 4, nil
	}
	if i >= len(b) || b[i] != '[' {
		return i, fmt.Errorf("%w: choices is not an array", errSyntax)
	}
	start := i
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		c.choices = b[start : i+1]
		return i + 1, nil
	}
	for {
		pos := len(c.indices)
		idx := pos
		var err error
		if i < len(b) && b[i] == '{' {
			i, err = walkObject(b, i, func(key []byte, b []byte, i int) (int, error) {
				if string(key) != "index" {
					return skipValue(b, i)
				}
				if isNullAt(b, i) {
					idx = pos
					return i + 4, nil
				}
				v, j, err := parseInt(b, i)
				idx = int(v)
				return j, err
			})
		} else {
			i, err = skipValue(b, i)
		}
		if err != nil {
			return i, err
		}
		c.indices = append(c.indices, idx)
		i = skipWS(b, i)
		if i >= len(b) {
			return i, errTruncated
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			c.choices = b[start : i+1]
			return i + 1, nil
		default:
			return i, fmt.Errorf("%w: in choices", errSyntax)
		}
	}
}

func (c *chunk) parseUsage(b []byte, i int) (int, error) {
	c.usage, c.promptTokens, c.completionTokens = false, 0, 0
	if isNullAt(b, i) {
		return i + 4, nil
	}
	if i >= len(b) || b[i] != '{' {
		return i, fmt.Errorf("%w: usage is not an object", errSyntax)
	}
	c.usage = true
	return walkObject(b, i, func(key []byte, b []byte, i int) (int, error) {
		var dst *int64
		switch string(key) {
		case "prompt_tokens":
			dst = &c.promptTokens
		case "completion_tokens":
			dst = &c.completionTokens
		default:
			return skipValue(b, i)
		}
		if isNullAt(b, i) {
			*dst = 0
			return i + 4, nil
		}
		v, j, err := parseInt(b, i)
		*dst = v
		return j, err
	})
}

// walkObject walks the object starting at b[i] ('{'), calling fn for each
// key with the index of its value; fn returns the index after the value.
// It returns the index after the closing brace.
func walkObject(b []byte, i int, fn func(key []byte, b []byte, i int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return i, fmt.Errorf("%w: not an object", errSyntax)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, fmt.Errorf("%w: want a key", errSyntax)
		}
		j, err := skipString(b, i)
		if err != nil {
			return j, err
		}
		key, err := unquote(b[i:j])
		if err != nil {
			return j, err
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return i, fmt.Errorf("%w: want ':'", errSyntax)
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return i, errTruncated
		}
		if i, err = fn(key, b, i); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, errTruncated
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, fmt.Errorf("%w: want ',' or '}'", errSyntax)
		}
	}
}

// unquote returns the content of a JSON string token; only keys with
// escapes pay for a decode.
func unquote(tok []byte) ([]byte, error) {
	body := tok[1 : len(tok)-1]
	for _, ch := range body {
		if ch == '\\' {
			var s string
			if err := json.Unmarshal(tok, &s); err != nil {
				return nil, fmt.Errorf("%w: bad string", errSyntax)
			}
			return []byte(s), nil
		}
	}
	return body, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string token starting at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(b), errTruncated
}

// skipValue returns the index after the JSON value starting at b[i]. It
// checks structure (brackets, strings, literals), not every detail.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errTruncated
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				k, err := skipString(b, j)
				if err != nil {
					return k, err
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return len(b), errTruncated
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && isNumberByte(b[j]) {
			j++
		}
		return j, nil
	}
	return i, fmt.Errorf("%w: unexpected %q", errSyntax, b[i])
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, fmt.Errorf("%w: bad literal", errSyntax)
	}
	return i + len(lit), nil
}

func isNull(v []byte) bool { return string(v) == "null" }

func isNullAt(b []byte, i int) bool {
	return len(b)-i >= 4 && string(b[i:i+4]) == "null"
}

// parseInt parses the integer token at b[i]; fractions, exponents and
// overflow are errors, as when decoding into an int64.
func parseInt(b []byte, i int) (int64, int, error) {
	j, err := skipValue(b, i)
	if err != nil {
		return 0, j, err
	}
	tok := b[i:j]
	neg := false
	if len(tok) > 0 && tok[0] == '-' {
		neg, tok = true, tok[1:]
	}
	if len(tok) == 0 {
		return 0, j, fmt.Errorf("%w: want an integer", errSyntax)
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	var v uint64
	for _, ch := range tok {
		if ch < '0' || ch > '9' {
			return 0, j, fmt.Errorf("%w: want an integer", errSyntax)
		}
		d := uint64(ch - '0')
		if v > (limit-d)/10 {
			return 0, j, fmt.Errorf("%w: integer overflows", errSyntax)
		}
		v = v*10 + d
	}
	if neg {
		return int64(-v), j, nil
	}
	return int64(v), j, nil
}
