package engine

import (
	"strconv"

	"loadgen/loadgen/jsonscan"
	"loadgen/workload"
)

// chunk is what the client needs from one completions stream chunk, read
// in one pass by a jsonscan.Scanner without building any value: the
// top-level keys "choices" (each choice's "index" and, when scoring, the
// yes/no entries of its first token's top_logprobs), "usage"
// (prompt_tokens, completion_tokens) and "error". Every other value is
// skipped (its syntax checked). It accepts what encoding/json accepts; keys
// match exactly and the last duplicate wins (FuzzChunkParse checks this).
type chunk struct {
	// choices holds one entry per choice, in order.
	choices []choice
	// usage is set when "usage" is a non-null object.
	usage                          bool
	promptTokens, completionTokens int64
	// errRaw is the raw "error" value when present and not null; it
	// aliases the parsed bytes.
	errRaw []byte

	s jsonscan.Scanner
}

// choice is one element of "choices".
type choice struct {
	// index is the choice's "index" (its position when absent or null).
	index int
	// scored is set when its logprobs.top_logprobs has a first element
	// that is an object; top holds that element's yes/no entries.
	scored bool
	top    workload.TopLogprobs
	// err is a JSON type error in the choice or its logprobs (read only
	// when scoring): a choice that is not an object, logprobs that are not
	// an object, top_logprobs that are not a list of objects of numbers.
	err error
}

// Field names of type errors.
const (
	fieldChoice      = "choices[]"
	fieldIndex       = "choices[].index"
	fieldLogprobs    = "choices[].logprobs"
	fieldTopLogprobs = "choices[].logprobs.top_logprobs"
	fieldTopEntry    = "choices[].logprobs.top_logprobs[]"
	fieldTopLogprob  = "choices[].logprobs.top_logprobs[] value"
)

// parse fills c from one JSON object. With a scorer it also reads every
// choice's first-token top_logprobs; without one, logprobs are skipped.
func (c *chunk) parse(b []byte, sc *workload.Scorer) error {
	c.choices, c.usage, c.promptTokens, c.completionTokens, c.errRaw = c.choices[:0], false, 0, 0, nil
	s := &c.s
	return s.Decode(b, func() error {
		return s.Object("chunk", func(key string) error {
			switch key {
			case "choices":
				return c.readChoices(sc)
			case "usage":
				return c.readUsage()
			case "error":
				raw, err := s.Raw()
				c.errRaw = nil
				if string(raw) != "null" {
					c.errRaw = raw
				}
				return err
			}
			return s.Skip()
		})
	})
}

// choiceErr returns the first choice's type error, if any.
func (c *chunk) choiceErr() error {
	for i := range c.choices {
		if err := c.choices[i].err; err != nil {
			return err
		}
	}
	return nil
}

func (c *chunk) readChoices(sc *workload.Scorer) error {
	s := &c.s
	c.choices = c.choices[:0]
	if s.Null() {
		return nil
	}
	return s.Array("choices", func(pos int) error {
		c.choices = append(c.choices, choice{index: pos})
		ch := &c.choices[pos]
		if s.Null() {
			return nil // no index, no logprobs
		}
		if s.Peek() != '{' {
			if sc == nil {
				return s.Skip()
			}
			return ch.note(s.Mismatch(fieldChoice, "object"))
		}
		return s.Object(fieldChoice, func(key string) error {
			switch key {
			case "index":
				ch.index = pos
				if s.Null() {
					return nil
				}
				n, err := s.Int(fieldIndex)
				ch.index = n
				return err
			case "logprobs":
				if sc != nil {
					ch.err = nil
					return ch.note(ch.readLogprobs(s, sc))
				}
			}
			return s.Skip()
		})
	})
}

// readLogprobs reads a choice's "logprobs": the entries of the first
// top_logprobs element, and the types of all of them.
func (ch *choice) readLogprobs(s *jsonscan.Scanner, sc *workload.Scorer) error {
	ch.scored, ch.top = false, workload.TopLogprobs{}
	if s.Null() {
		return nil
	}
	return s.Object(fieldLogprobs, func(key string) error {
		if key != "top_logprobs" {
			return s.Skip()
		}
		ch.scored, ch.top, ch.err = false, workload.TopLogprobs{}, nil
		if s.Null() {
			return nil
		}
		return ch.note(s.Array(fieldTopLogprobs, func(i int) error {
			if s.Null() {
				return nil
			}
			first := i == 0 && s.Peek() == '{'
			ch.scored = ch.scored || first
			if s.Peek() != '{' {
				return s.Mismatch(fieldTopEntry, "object")
			}
			// Every value is checked to be a number that fits a float64
			// (or null, which decodes as 0, as into a map[string]float64);
			// only the ones the scorer reads are converted.
			return s.FloatObject(fieldTopLogprob, func(key string, num []byte) {
				if first && sc.Reads(key) {
					var lp float64
					if num != nil {
						lp, _ = strconv.ParseFloat(string(num), 64) // FloatObject checked it
					}
					sc.Add(&ch.top, key, lp)
				}
			})
		}))
	})
}

// note keeps the first type error of the choice's current logprobs and
// lets the scan go on; a syntax error stops it.
func (ch *choice) note(err error) error {
	if _, ok := err.(*jsonscan.TypeError); ok {
		if ch.err == nil {
			ch.err = err
		}
		return nil
	}
	return err
}

func (c *chunk) readUsage() error {
	s := &c.s
	c.usage, c.promptTokens, c.completionTokens = false, 0, 0
	if s.Null() {
		return nil
	}
	c.usage = s.Peek() == '{'
	return s.Object("usage", func(key string) error {
		var dst *int64
		switch key {
		case "prompt_tokens":
			dst = &c.promptTokens
		case "completion_tokens":
			dst = &c.completionTokens
		default:
			return s.Skip()
		}
		*dst = 0
		if s.Null() {
			return nil
		}
		var err error
		*dst, err = s.Int64("usage")
		return err
	})
}
