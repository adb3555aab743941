package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	_ "loadgen/loadgen/testkit" // -update: go test ./... -update passes it to every test binary
)

// decodeAny reads any value as encoding/json decodes it into an interface.
func decodeAny(s *Scanner) (any, error) {
	switch s.Peek() {
	case '{':
		m := map[string]any{}
		err := s.Object("", func(key string) error {
			v, err := decodeAny(s)
			m[strings.Clone(key)] = v
			return err
		})
		return m, err
	case '[':
		a := []any{}
		err := s.Array("", func(int) error {
			v, err := decodeAny(s)
			a = append(a, v)
			return err
		})
		return a, err
	case '"':
		return s.String("", false)
	case 't', 'f':
		return s.Bool("")
	case 'n':
		if s.Null() {
			return nil, nil
		}
	}
	return s.Float("")
}

// errClass names an error as syntax, type or none, for both decoders.
func errClass(err error) string {
	var se *json.SyntaxError
	var te *TypeError
	var ute *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, ErrSyntax) || errors.As(err, &se):
		return "syntax"
	case errors.As(err, &te) || errors.As(err, &ute):
		return "type"
	}
	return "other: " + err.Error()
}

func TestScanner(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, in string
		read     func(s *Scanner) (any, error)
		want     any
		err      string // errClass of the error
	}{
		// Keys match exactly; the last duplicate wins.
		{name: "object", in: ` {"a":1,"A":2,"a":3} `, read: decodeAny, want: map[string]any{"a": 3.0, "A": 2.0}, err: "none"},
		// A type error deep inside is returned once the value is read.
		{name: "type error then more", in: `[1,"x",3]`, read: func(s *Scanner) (any, error) { return s.Ints("f", nil) }, err: "type"},
		// ... but a later syntax error wins, as in encoding/json.
		{name: "syntax wins", in: `[1,"x",3`, read: func(s *Scanner) (any, error) { return s.Ints("f", nil) }, err: "syntax"},
		// Null elements of an integer array are 0.
		{name: "ints null", in: `[1,null,-2]`, read: func(s *Scanner) (any, error) { return s.Ints("f", nil) }, want: []int{1, 0, -2}, err: "none"},
		// An empty array is an empty, non-nil slice.
		{name: "ints empty", in: `[ ]`, read: func(s *Scanner) (any, error) { return s.Ints("f", nil) }, want: []int{}, err: "none"},
		// int64 bounds; one past is not an integer.
		{name: "int64 min", in: `-9223372036854775808`, read: func(s *Scanner) (any, error) { return s.Int64("f") }, want: int64(-1 << 63), err: "none"},
		{name: "int64 overflow", in: `9223372036854775808`, read: func(s *Scanner) (any, error) { return s.Int64("f") }, err: "type"},
		// A fraction or an exponent is not an integer, even when whole.
		{name: "int exponent", in: `1e2`, read: func(s *Scanner) (any, error) { return s.Int("f") }, err: "type"},
		{name: "int fraction", in: `1.0`, read: func(s *Scanner) (any, error) { return s.Int("f") }, err: "type"},
		// Leading zeros, bare signs and dots are syntax errors.
		{name: "leading zero", in: `01`, read: func(s *Scanner) (any, error) { return s.Int("f") }, err: "syntax"},
		{name: "bare minus", in: `-`, read: func(s *Scanner) (any, error) { return s.Float("f") }, err: "syntax"},
		{name: "trailing dot", in: `1.`, read: func(s *Scanner) (any, error) { return s.Float("f") }, err: "syntax"},
		// A float beyond float64 is a type error, as in encoding/json.
		{name: "float range", in: `1e400`, read: func(s *Scanner) (any, error) { return s.Float("f") }, err: "type"},
		// Escapes, a surrogate pair, a lone surrogate and invalid UTF-8.
		{name: "escapes", in: `"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x` + "\xff\"", read: func(s *Scanner) (any, error) { return s.String("f", false) },
			want: "a\"\\/\b\f\n\r\té😀\uFFFDx\uFFFD", err: "none"},
		// A lone high surrogate followed by another escape keeps that escape.
		{name: "surrogate then escape", in: `"\ud800\u0041"`, read: func(s *Scanner) (any, error) { return s.String("f", false) }, want: "\uFFFDA", err: "none"},
		// Control characters must be escaped; unknown escapes are errors.
		{name: "control char", in: "\"a\tb\"", read: func(s *Scanner) (any, error) { return s.String("f", false) }, err: "syntax"},
		{name: "bad escape", in: `"\x"`, read: func(s *Scanner) (any, error) { return s.String("f", false) }, err: "syntax"},
		{name: "short unicode escape", in: `"\u12"`, read: func(s *Scanner) (any, error) { return s.Raw() }, err: "syntax"},
		// A wrong type is reported with the field and consumed.
		{name: "bool type", in: `{"x":[1]}`, read: func(s *Scanner) (any, error) { return s.Bool("flag") }, err: "type"},
		// Raw returns a value's text without surrounding space.
		{name: "raw", in: ` {"m": [1, "}"]} `, read: func(s *Scanner) (any, error) { b, err := s.Raw(); return string(b), err }, want: `{"m": [1, "}"]}`, err: "none"},
		// Trailing data, a trailing comma, a missing colon, an empty text.
		{name: "trailing data", in: `{} {}`, read: decodeAny, err: "syntax"},
		{name: "trailing comma", in: `{"a":1,}`, read: decodeAny, err: "syntax"},
		{name: "no colon", in: `{"a" 1}`, read: func(s *Scanner) (any, error) { return nil, s.Skip() }, err: "syntax"},
		{name: "empty", in: ``, read: decodeAny, err: "syntax"},
		{name: "literal prefix", in: `nul`, read: decodeAny, err: "syntax"},
		// Nesting: MaxDepth levels are fine, one more is an error.
		{name: "max depth", in: deep(MaxDepth), read: func(s *Scanner) (any, error) { return nil, s.Skip() }, err: "none"},
		{name: "too deep", in: deep(MaxDepth + 1), read: func(s *Scanner) (any, error) { return nil, s.Skip() }, err: "syntax"},
		{name: "too deep decoded", in: deep(MaxDepth + 1), read: decodeAny, err: "syntax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s Scanner
			var got any
			err := s.Decode([]byte(tc.in), func() error {
				var err error
				got, err = tc.read(&s)
				return err
			})
			if c := errClass(err); c != tc.err {
				t.Fatalf("error %v (%s), want %s", err, c, tc.err)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			// encoding/json agrees on what is valid JSON.
			if valid := json.Valid([]byte(tc.in)); valid != (tc.err != "syntax") {
				t.Errorf("json.Valid %v, error class %s", valid, tc.err)
			}
		})
	}
}

// TestAlias checks that alias shares memory only where it can.
func TestAlias(t *testing.T) {
	t.Parallel()
	b := []byte(`["plain","esc\n"]`)
	var s Scanner
	var got []string
	if err := s.Decode(b, func() error {
		return s.Array("", func(int) error {
			v, err := s.String("", true)
			got = append(got, v)
			return err
		})
	}); err != nil {
		t.Fatal(err)
	}
	b[2] = 'P' // the aliased string sees it, the decoded one cannot
	if got[0] != "Plain" || got[1] != "esc\n" {
		t.Errorf("got %q", got)
	}
}

// FuzzScanner checks the scanner against encoding/json: the same texts
// are valid, a generic decode gives the same values, and each typed read
// of the top-level value succeeds, fails on type or fails on syntax as
// decoding into the matching Go type does, with the same value.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		// stream chunks
		`{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"a","logprobs":null,"finish_reason":null}],"usage":null}`,
		`{"choices":[{"index":1,"logprobs":{"top_logprobs":[{"yes":-0.1,"no":-2.5,"token_id:9693":null}]}}],"usage":{"prompt_tokens":12,"completion_tokens":2}}`,
		`{"error":{"message":"x","code":400}}`,
		// completion requests
		`{"prompt":[[1,2],[3]],"max_tokens":null,"logprobs":2,"x":{"y":[1,"\u00e9\ud83d\ude00"]}}`,
		`{"prompt":["a","b"],"temperature":0.5e1,"stream":false,"model":"rr"}`,
		`{"prompt":"\ud800x","model":"a\"b","allowed_token_ids":[9693,2152,null]}`,
		// scalars and edges
		`-0`, `1e400`, `-9223372036854775809`, `"\u0000"`, "\"\xff\xfe\"", `[true,false,null]`, `[1,"a"]`, ` 12 `, `01`,
		// top logprobs: the plain form, and each way out of it
		`{"yes":-0.6886,"no":-0.7815,"tok0":-3.25,"tok0":0}`, `{"y\u0065s":-1, "no" : 2,"x":null,"z":1e400,"w":"s","v":-01}`,
		`{"\xff":1.5e3,"é":-0.5,"a":1.}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b)
		var s Scanner

		// Validity through Skip, and Raw's text.
		var raw []byte
		err := s.Decode(b, func() error {
			var err error
			raw, err = s.Raw()
			return err
		})
		if (err == nil) != valid {
			t.Fatalf("%q: Raw error %v, json.Valid %v", b, err, valid)
		}
		if valid {
			var want json.RawMessage
			if err := json.Unmarshal(b, &want); err != nil || !bytes.Equal(raw, want) {
				t.Fatalf("%q: Raw %q, encoding/json %q (%v)", b, raw, want, err)
			}
		}

		// A generic decode.
		var got any
		err = s.Decode(b, func() error {
			var err error
			got, err = decodeAny(&s)
			return err
		})
		var want any
		wantErr := json.Unmarshal(b, &want)
		if errClass(err) != errClass(wantErr) {
			t.Fatalf("%q: error %v, encoding/json %v", b, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %#v, encoding/json %#v", b, got, want)
		}
		if !valid || bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			return // a null is the caller's to accept (Null)
		}

		// Typed reads of the top-level value.
		typed := []struct {
			name string
			read func() (any, error)
			ref  func() (any, error)
		}{
			{"int", func() (any, error) { return s.Int("f") }, func() (any, error) { var v int; err := json.Unmarshal(b, &v); return v, err }},
			{"int64", func() (any, error) { return s.Int64("f") }, func() (any, error) { var v int64; err := json.Unmarshal(b, &v); return v, err }},
			{"float", func() (any, error) { return s.Float("f") }, func() (any, error) { var v float64; err := json.Unmarshal(b, &v); return v, err }},
			{"bool", func() (any, error) { return s.Bool("f") }, func() (any, error) { var v bool; err := json.Unmarshal(b, &v); return v, err }},
			{"string", func() (any, error) { return s.String("f", true) }, func() (any, error) { var v string; err := json.Unmarshal(b, &v); return v, err }},
			{"ints", func() (any, error) { return s.Ints("f", nil) }, func() (any, error) { var v []int; err := json.Unmarshal(b, &v); return v, err }},
			{"float object", func() (any, error) {
				m := map[string]*float64{}
				err := s.FloatObject("f", func(k string, num []byte) {
					if num == nil {
						m[strings.Clone(k)] = nil
						return
					}
					v, err := strconv.ParseFloat(string(num), 64)
					if err != nil {
						t.Fatalf("%q: FloatObject gave %q, which does not convert: %v", b, num, err)
					}
					m[strings.Clone(k)] = &v
				})
				return m, err
			}, func() (any, error) { var v map[string]*float64; err := json.Unmarshal(b, &v); return v, err }},
		}
		for _, ty := range typed {
			var got any
			err := s.Decode(b, func() error {
				var err error
				got, err = ty.read()
				return err
			})
			want, wantErr := ty.ref()
			if errClass(err) != errClass(wantErr) {
				t.Fatalf("%q as %s: error %v, encoding/json %v", b, ty.name, err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%q as %s: %#v, encoding/json %#v", b, ty.name, got, want)
			}
		}
	})
}
