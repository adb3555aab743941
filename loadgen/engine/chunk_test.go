package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"loadgen/workload"
)

// chunkView is what a parsed chunk says, for comparisons: per choice its
// index, and with a scorer whether it was scored, P(yes), the missing
// flags and whether its logprobs had a type error.
type chunkView struct {
	choices                        []choiceView
	usage                          bool
	promptTokens, completionTokens int64
	errRaw                         string
}

type choiceView struct {
	index          int
	scored         bool
	p              float64
	missYes, missN bool
	bad            bool
}

// norm drops the scores of a choice with a type error: the client
// reports the error and reads no score.
func (cv choiceView) norm() choiceView {
	if cv.bad {
		return choiceView{index: cv.index, bad: true}
	}
	return cv
}

func (c *chunk) view(sc *workload.Scorer) chunkView {
	v := chunkView{choices: []choiceView{}, usage: c.usage, promptTokens: c.promptTokens,
		completionTokens: c.completionTokens, errRaw: string(c.errRaw)}
	for i := range c.choices {
		ch := &c.choices[i]
		cv := choiceView{index: ch.index, scored: ch.scored, bad: ch.err != nil}
		if sc != nil && ch.scored {
			cv.p, cv.missYes, cv.missN = sc.Score(&ch.top)
		}
		v.choices = append(v.choices, cv.norm())
	}
	return v
}

func TestChunkParse(t *testing.T) {
	t.Parallel()
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	pYes := func(yes, no float64) float64 { p, _, _ := scorer.Score(top(yes, no)); return p }
	idx := func(is ...int) []choiceView {
		out := []choiceView{}
		for _, i := range is {
			out = append(out, choiceView{index: i})
		}
		return out
	}
	tests := []struct {
		name  string
		in    string
		score bool // parse with a scorer
		want  chunkView
		bad   bool
	}{
		// A vLLM token chunk: one choice, null usage.
		{name: "token", in: evTok0, want: chunkView{choices: idx(0)}},
		// The final usage chunk: no choices.
		{name: "usage", in: evUsage, want: chunkView{choices: idx(), usage: true, promptTokens: 12, completionTokens: 2}},
		// Choices without an index take their position.
		{name: "no index", in: `{"choices":[{"text":"a"},{"index":null}]}`, want: chunkView{choices: idx(0, 1)}},
		// Other values are skipped whatever they hold.
		{name: "skips values", in: `{"a":[1,{"b":"}]\"{"}],"choices":[{"x":{"index":9},"index":3}],"n":-1.5e3,"t":true,"f":false,"z":null}`, want: chunkView{choices: idx(3)}},
		// An error event is kept raw.
		{name: "error", in: `{"error":{"message":"m","code":400}}`, want: chunkView{choices: idx(), errRaw: `{"message":"m","code":400}`}},
		// A null error is no error.
		{name: "null error", in: `{"error":null,"choices":null}`, want: chunkView{choices: idx()}},
		// Escaped keys are decoded.
		{name: "escaped key", in: `{"ch\u006fices":[{"index":2}]}`, want: chunkView{choices: idx(2)}},
		// The last of duplicate keys wins, as in encoding/json.
		{name: "duplicate keys", in: `{"choices":[{"index":1}],"choices":[]}`, want: chunkView{choices: idx()}},
		// Whitespace anywhere.
		{name: "whitespace", in: " {\n\"usage\" : { \"prompt_tokens\" : 5 , \"completion_tokens\" : null } } ", want: chunkView{choices: idx(), usage: true, promptTokens: 5}},
		// Without a scorer, logprobs and non-object choices are not looked at.
		{name: "unscored", in: `{"choices":[{"index":0,"logprobs":7},5]}`, want: chunkView{choices: idx(0, 1)}},
		// Scoring: P(yes) from the first token's top logprobs, by key form;
		// later tokens' entries do not count.
		{name: "scored", score: true, in: logprobsEv(1, `{"yes":-0.1,"no":-2.5,"maybe":-4},{"yes":-9}`),
			want: chunkView{choices: []choiceView{{index: 1, scored: true, p: pYes(-0.1, -2.5)}}}},
		// A missing "no" is reported; a null logprob reads as 0, as into a map.
		{name: "missing no", score: true, in: logprobsEv(0, `{"token_id:9693":null}`),
			want: chunkView{choices: []choiceView{{index: 0, scored: true, p: pYes(0, workload.MissingLogprob), missN: true}}}},
		// No logprobs, no top_logprobs, an empty list, a null first entry:
		// not scored (the client reports missing logprobs).
		{name: "not scored", score: true, in: `{"choices":[{"logprobs":null},{"logprobs":{}},{"logprobs":{"top_logprobs":[]}},{"logprobs":{"top_logprobs":[null,{"yes":-1}]}},null]}`,
			want: chunkView{choices: idx(0, 1, 2, 3, 4)}},
		// An empty first entry is scored: both answers missing.
		{name: "empty entry", score: true, in: logprobsEv(0, `{}`),
			want: chunkView{choices: []choiceView{{index: 0, scored: true, p: 0.5, missYes: true, missN: true}}}},
		// Wrong types in logprobs mark the choice, not the chunk.
		{name: "bad logprobs", score: true, in: `{"choices":[{"logprobs":3},{"logprobs":{"top_logprobs":{}}},{"logprobs":{"top_logprobs":[{"yes":-1},{"no":"x"}]}},"s"]}`,
			want: chunkView{choices: []choiceView{{index: 0, bad: true}, {index: 1, bad: true}, {index: 2, bad: true}, {index: 3, bad: true}}}},
		// The last "logprobs" wins, its type error with it.
		{name: "duplicate logprobs", score: true, in: `{"choices":[{"logprobs":3,"logprobs":{"top_logprobs":[{"yes":-1,"no":-1}]}}]}`,
			want: chunkView{choices: []choiceView{{index: 0, scored: true, p: 0.5}}}},
		// Broken input is an error, not a panic.
		{name: "truncated", in: `{"choices":[{"index":0}`, bad: true},
		{name: "not an object", in: `[1]`, bad: true},
		{name: "null", in: `null`, bad: true},
		{name: "trailing data", in: `{} x`, bad: true},
		{name: "fractional index", in: `{"choices":[{"index":1.5}]}`, bad: true},
		{name: "string index", in: `{"choices":[{"index":"1"}]}`, bad: true},
		{name: "choices not a list", in: `{"choices":{}}`, bad: true},
		{name: "usage not object", in: `{"usage":3}`, bad: true},
		{name: "overflow", in: `{"usage":{"prompt_tokens":9223372036854775808}}`, bad: true},
		{name: "empty", in: ``, bad: true},
		// Invalid JSON in a skipped value is still invalid.
		{name: "leading zero", in: `{"created":01,"choices":[]}`, bad: true},
		{name: "bad escape", in: `{"text":"\x","choices":[]}`, bad: true},
		// A syntax error after a logprobs type error fails the chunk.
		{name: "syntax after type", score: true, in: `{"choices":[{"logprobs":3}],}`, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sc *workload.Scorer
			if tc.score {
				sc = &scorer
			}
			var c chunk
			err := c.parse([]byte(tc.in), sc)
			if tc.bad {
				if err == nil {
					t.Errorf("parsed %q without error", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.view(sc); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// top returns the TopLogprobs of a first token with these logprobs of
// "yes" and "no".
func top(yes, no float64) *workload.TopLogprobs {
	var t workload.TopLogprobs
	sc := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	sc.Add(&t, "yes", yes)
	sc.Add(&t, "no", no)
	return &t
}

// refChunk decodes what chunk.parse extracts with encoding/json (exact
// key matching, the last duplicate winning, through maps). ok is false
// when the scanner must fail.
func refChunk(b []byte, sc *workload.Scorer) (v chunkView, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || top == nil {
		return v, false
	}
	v.choices = []choiceView{}
	if raw, has := top["choices"]; has && string(raw) != "null" {
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return v, false
		}
		for pos, el := range arr {
			cv := choiceView{index: pos}
			var m map[string]json.RawMessage
			if json.Unmarshal(el, &m) != nil {
				cv.bad = sc != nil // not an object
			}
			if raw, has := m["index"]; has && string(raw) != "null" {
				var n int64
				if json.Unmarshal(raw, &n) != nil || n != int64(int(n)) {
					return v, false
				}
				cv.index = int(n)
			}
			if raw, has := m["logprobs"]; sc != nil && has && string(raw) != "null" {
				var lp struct {
					Top []map[string]float64 `json:"top_logprobs"`
				}
				var lm map[string]json.RawMessage
				switch {
				case json.Unmarshal(raw, &lm) != nil:
					cv.bad = true
				case lm["top_logprobs"] != nil && json.Unmarshal(lm["top_logprobs"], &lp.Top) != nil:
					cv.bad = true
				}
				if len(lp.Top) > 0 && lp.Top[0] != nil {
					var t workload.TopLogprobs
					for k, x := range lp.Top[0] {
						sc.Add(&t, k, x)
					}
					cv.scored = true
					cv.p, cv.missYes, cv.missN = sc.Score(&t)
				}
			}
			v.choices = append(v.choices, cv.norm())
		}
	}
	if raw, has := top["usage"]; has && string(raw) != "null" {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return v, false
		}
		v.usage = true
		for k, dst := range map[string]*int64{"prompt_tokens": &v.promptTokens, "completion_tokens": &v.completionTokens} {
			if raw, has := m[k]; has && string(raw) != "null" {
				if json.Unmarshal(raw, dst) != nil {
					return v, false
				}
			}
		}
	}
	if raw, has := top["error"]; has && string(raw) != "null" {
		v.errRaw = string(raw)
	}
	return v, true
}

// FuzzChunkParse checks the chunk scan against encoding/json, with and
// without a scorer: invalid JSON is an error, and valid JSON gives the same
// choices, indices, scores, type errors, usage and error event, or fails
// where encoding/json fails.
func FuzzChunkParse(f *testing.F) {
	for _, s := range []string{evTok0, evUsage, evEmpty, `{"error":{"message":"x"}}`,
		`{"choices":[{"index":1},2,null,"s"],"usage":{"prompt_tokens":-3}}`, `{"a\\"b":[{}]}`,
		logprobsEv(0, `{"yes":-0.1,"no":-2.5}`), logprobsEv(3, `{"token_id:9693":-1,"no":null},null`),
		`{"choices":[{"logprobs":{"top_logprobs":[{"y\u0065s":-1}]},"logprobs":null}]}`,
		`{"choices":[{"logprobs":{"top_logprobs":[{"yes":1e400}]}}]}`,
		// Keys the scorer does not read are checked without conversion,
		// except exponents and very long literals.
		`{"choices":[{"logprobs":{"top_logprobs":[{"tok":1e400,"yes":-1},{"no":1e400}]}}]}`,
		`{"choices":[{"logprobs":{"top_logprobs":[{"tok":-` + strings.Repeat("9", 310) + `.5}]}}]}`} {
		f.Add([]byte(s))
	}
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, sc := range []*workload.Scorer{nil, &scorer} {
			var c chunk
			err := c.parse(b, sc)
			if !json.Valid(b) {
				if err == nil {
					t.Fatalf("%q: parsed invalid JSON", b)
				}
				continue
			}
			want, ok := refChunk(b, sc)
			if !ok {
				if err == nil {
					t.Fatalf("%q: parsed, want an error", b)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%q (scorer %v): %v", b, sc != nil, err)
			}
			if got := c.view(sc); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%q (scorer %v):\ngot  %+v\nwant %+v", b, sc != nil, got, want)
			}
		}
	})
}
