package engine

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestChunkParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		indices []int
		usage   bool
		pt, ct  int64
		errRaw  string
		bad     bool
	}{
		// A vLLM token chunk: one choice, null usage.
		{name: "token", in: evTok0, indices: []int{0}},
		// The final usage chunk: no choices.
		{name: "usage", in: evUsage, indices: []int{}, usage: true, pt: 12, ct: 2},
		// Choices without an index take their position.
		{name: "no index", in: `{"choices":[{"text":"a"},{"index":null}]}`, indices: []int{0, 1}},
		// Other values are skipped whatever they hold.
		{name: "skips values", in: `{"a":[1,{"b":"}]\"{"}],"choices":[{"x":{"index":9},"index":3}],"n":-1.5e3,"t":true,"f":false,"z":null}`, indices: []int{3}},
		// An error event is kept raw.
		{name: "error", in: `{"error":{"message":"m","code":400}}`, indices: []int{}, errRaw: `{"message":"m","code":400}`},
		// A null error is no error.
		{name: "null error", in: `{"error":null,"choices":null}`, indices: []int{}},
		// Escaped keys are decoded.
		{name: "escaped key", in: `{"ch\u006fices":[{"index":2}]}`, indices: []int{2}},
		// The last of duplicate keys wins, as in encoding/json.
		{name: "duplicate keys", in: `{"choices":[{"index":1}],"choices":[]}`, indices: []int{}},
		// Whitespace anywhere.
		{name: "whitespace", in: " {\n\"usage\" : { \"prompt_tokens\" : 5 , \"completion_tokens\" : null } } ", indices: []int{}, usage: true, pt: 5},
		// Broken input is an error, not a panic.
		{name: "truncated", in: `{"choices":[{"index":0}`, bad: true},
		{name: "not an object", in: `[1]`, bad: true},
		{name: "trailing data", in: `{} x`, bad: true},
		{name: "fractional index", in: `{"choices":[{"index":1.5}]}`, bad: true},
		{name: "usage not object", in: `{"usage":3}`, bad: true},
		{name: "overflow", in: `{"usage":{"prompt_tokens":9223372036854775808}}`, bad: true},
		{name: "empty", in: ``, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c chunk
			err := c.parse([]byte(tc.in))
			if tc.bad {
				if err == nil {
					t.Errorf("parsed %q without error", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(c.indices) != fmt.Sprint(tc.indices) || c.usage != tc.usage ||
				c.promptTokens != tc.pt || c.completionTokens != tc.ct || string(c.errRaw) != tc.errRaw {
				t.Errorf("got indices %v usage %v %d/%d err %s", c.indices, c.usage, c.promptTokens, c.completionTokens, c.errRaw)
			}
		})
	}
}

// refChunk decodes what chunk.parse extracts with encoding/json (exact
// key matching through maps). ok is false when the scanner must fail.
func refChunk(b []byte) (c chunk, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || top == nil {
		return c, false
	}
	c.indices = []int{}
	if raw, has := top["choices"]; has && string(raw) != "null" {
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return c, false
		}
		for pos, el := range arr {
			idx := pos
			var m map[string]json.RawMessage
			if json.Unmarshal(el, &m) == nil {
				if raw, has := m["index"]; has && string(raw) != "null" {
					var n int64
					if json.Unmarshal(raw, &n) != nil || n != int64(int(n)) {
						return c, false
					}
					idx = int(n)
				}
			}
			c.indices = append(c.indices, idx)
		}
	}
	if raw, has := top["usage"]; has && string(raw) != "null" {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return c, false
		}
		c.usage = true
		for k, dst := range map[string]*int64{"prompt_tokens": &c.promptTokens, "completion_tokens": &c.completionTokens} {
			if raw, has := m[k]; has && string(raw) != "null" {
				if json.Unmarshal(raw, dst) != nil {
					return c, false
				}
			}
		}
	}
	if raw, has := top["error"]; has && string(raw) != "null" {
		c.errRaw = raw
	}
	return c, true
}

// FuzzChunkParse checks the scanner against encoding/json on valid JSON
// and for panics on anything.
func FuzzChunkParse(f *testing.F) {
	for _, s := range []string{evTok0, evUsage, evEmpty, `{"error":{"message":"x"}}`,
		`{"choices":[{"index":1},2,null,"s"],"usage":{"prompt_tokens":-3}}`, `{"a\\"b":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c chunk
		err := c.parse(b)
		if !json.Valid(b) {
			return
		}
		want, ok := refChunk(b)
		if !ok {
			if err == nil {
				t.Fatalf("%q: parsed, want an error", b)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if fmt.Sprint(c.indices) != fmt.Sprint(want.indices) || c.usage != want.usage ||
			c.promptTokens != want.promptTokens || c.completionTokens != want.completionTokens ||
			(c.errRaw == nil) != (want.errRaw == nil) {
			t.Fatalf("%q: got %v %v %d %d %q, want %v %v %d %d %q", b, c.indices, c.usage, c.promptTokens,
				c.completionTokens, c.errRaw, want.indices, want.usage, want.promptTokens, want.completionTokens, want.errRaw)
		}
	})
}
