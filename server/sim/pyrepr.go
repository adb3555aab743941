package sim

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// pyRepr renders a JSON-decoded value the way Python's repr() prints the
// equivalent object, as vLLM's and NxDI's log lines do ({'k': True, …}).
// keys, when non-nil, gives the order of a top-level object's keys.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, nil)
	return b.String()
}

func pyReprOrdered(m map[string]any, keys []string) string {
	var b strings.Builder
	writeRepr(&b, m, keys)
	return b.String()
}

func writeRepr(b *strings.Builder, v any, keys []string) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			b.WriteString(strconv.FormatInt(int64(x), 10))
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), "'", `\'`))
		b.WriteByte('\'')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, nil)
		}
		b.WriteByte(']')
	case map[string]any:
		if keys == nil {
			keys = make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
		}
		b.WriteByte('{')
		n := 0
		for _, k := range keys {
			e, ok := x[k]
			if !ok {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			writeRepr(b, k, nil)
			b.WriteString(": ")
			writeRepr(b, e, nil)
		}
		b.WriteByte('}')
	default:
		b.WriteString(strconv.Quote(strings.TrimSpace(string(mustJSON(x)))))
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// objectKeys returns the keys of the JSON object at path (a chain of
// member names) inside raw, in document order; nil if there is none.
func objectKeys(raw []byte, path ...string) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	for depth := 0; ; depth++ {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil
		}
		if depth == len(path) {
			break
		}
		found := false
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil
			}
			if t == path[depth] {
				found = true
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
		}
		if !found {
			return nil
		}
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}
