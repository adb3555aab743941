package neuron

import (
	"slices"
	"sort"
	"strings"
)

// KeyKind says what NeuronConfig.__init__ of a stack does with one keyword
// argument.
type KeyKind int

// Key kinds.
const (
	// KeyUnknown: not popped at all; NxDI lists it in "Unexpected keyword
	// arguments" and ignores it.
	KeyUnknown KeyKind = iota
	// KeyAccepted: popped before the unknown-key check; applied silently.
	KeyAccepted
	// KeyLate: popped after the check (NxDI 2.26 only); applied, yet
	// listed in the warning.
	KeyLate
	// KeyDerived: an attribute NxDI sets itself. A saved neuron_config.json
	// holds it, so a reload of compiled artifacts passes it back and the
	// warning lists it; written by a user, it is ignored like an unknown key.
	KeyDerived
	// KeyMoE: popped only by MoENeuronConfig (mixture-of-experts models);
	// a dense model ignores it like an unknown key.
	KeyMoE
)

// Kind returns what the stack's NeuronConfig does with key.
// source: see keys_gen.go.
func (s *Stack) Kind(key string) KeyKind {
	switch {
	case s.accepted[key]:
		return KeyAccepted
	case s.late[key]:
		return KeyLate
	case s.derived[key] || keysMoEDerivedSet[key]:
		return KeyDerived
	case s.moe[key]:
		return KeyMoE
	}
	return KeyUnknown
}

var keysMoEDerivedSet = set(keysMoEDerived)

// Applies reports whether a key written into override_neuron_config is
// applied by a dense model's NeuronConfig (accepted or late).
func (s *Stack) Applies(key string) bool {
	k := s.Kind(key)
	return k == KeyAccepted || k == KeyLate
}

// Fields returns the keys a dense NeuronConfig applies, sorted.
func (s *Stack) Fields() []string {
	out := make([]string, 0, len(s.accepted)+len(s.late))
	for k := range s.accepted {
		out = append(out, k)
	}
	for k := range s.late {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DerivedKeys returns the attributes a dense NeuronConfig of this stack
// sets itself and a reload of neuron_config.json passes back, sorted (the
// order NxDI prints them in: the JSON is saved with sort_keys=True).
func (s *Stack) DerivedKeys() []string {
	out := make([]string, 0, len(s.derived))
	for k := range s.derived {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Suggest returns the NeuronConfig field closest to an unknown key ("" when
// none is close).
func (s *Stack) Suggest(key string) string { return Closest(key, s.Fields()) }

// Unexpected sorts the keys of one "Unexpected keyword arguments" warning
// by where they come from.
type Unexpected struct {
	// Typos were written into override_neuron_config by the profile and
	// are not fields this stack applies: NxDI ignored them, so the run did
	// not measure the configuration the profile describes.
	Typos []string
	// Late are applied although listed (NxDI 2.26 pops them after the
	// check).
	Late []string
	// Derived are NxDI's own attributes, passed back when it rebuilt its
	// config from a saved neuron_config.json (reuse of compiled artifacts).
	Derived []string
	// Other are neither written by the profile nor in the table (set by
	// model code, or an unknown newer attribute): reported, not voiding.
	Other []string
	// Applied are fields this stack pops before the check, so it never
	// lists them: the server is not the stack the rules were chosen for.
	Applied []string
}

// ClassifyUnexpected sorts the keys of a warning; written reports whether
// the profile wrote a key into override_neuron_config.
func (s *Stack) ClassifyUnexpected(keys []string, written func(string) bool) Unexpected {
	var u Unexpected
	for _, k := range keys {
		kind := s.Kind(k)
		switch {
		case kind == KeyAccepted:
			u.Applied = append(u.Applied, k)
		case written(k) && kind != KeyLate:
			u.Typos = append(u.Typos, k)
		case kind == KeyLate:
			u.Late = append(u.Late, k)
		case kind == KeyDerived:
			u.Derived = append(u.Derived, k)
		default:
			u.Other = append(u.Other, k)
		}
	}
	return u
}

// DictKeys returns the top-level keys of a Python dict repr such as
// "{'skip_warmup': True, 'tile_cc': False}", in order. Values may nest
// lists, tuples, dicts and quoted strings. A repr cut short (a clipped log
// line) yields the keys read so far and complete=false; text that is not a
// dict yields no keys.
func DictKeys(repr string) (keys []string, complete bool) {
	s := strings.TrimSpace(repr)
	if !strings.HasPrefix(s, "{") {
		return nil, false
	}
	i := 1
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return keys, false
		}
		if s[i] == '}' {
			return keys, true
		}
		if s[i] != '\'' && s[i] != '"' {
			return keys, false // not a string key: not a kwargs dict
		}
		key, end, ok := pyString(s, i)
		if !ok {
			return keys, false
		}
		keys = append(keys, key)
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return keys, false
		}
		// Skip the value: up to a comma or the closing brace at depth 0.
		depth := 0
		for i++; ; i++ {
			if i >= len(s) {
				return keys, false
			}
			c := s[i]
			switch {
			case c == '\'' || c == '"':
				_, end, ok := pyString(s, i)
				if !ok {
					return keys, false
				}
				i = end - 1
				continue
			case c == '(' || c == '[' || c == '{':
				depth++
				continue
			case (c == ')' || c == ']' || c == '}') && depth > 0:
				depth--
				continue
			}
			if depth == 0 && (c == ',' || c == '}') {
				break
			}
		}
		if s[i] == '}' {
			return keys, true
		}
		i++ // the comma
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// pyString reads the quoted string starting at s[i] (repr escapes:
// backslash escapes the next character) and returns its text and the index
// after the closing quote.
func pyString(s string, i int) (string, int, bool) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '\\' && j+1 < len(s):
			j++
			b.WriteByte(s[j])
		case c == q:
			return b.String(), j + 1, true
		default:
			b.WriteByte(c)
		}
	}
	return "", len(s), false
}

// Closest returns the candidate nearest to word: a candidate equal to it
// once lowercased with "-" as "_", else the nearest within an edit distance
// of min(3, len/3+1), else a candidate containing it (4 characters or
// more); "" when none. Profile keys and NeuronConfig fields share it.
func Closest(word string, candidates []string) string {
	norm := strings.ToLower(strings.ReplaceAll(word, "-", "_"))
	if norm != word && slices.Contains(candidates, norm) {
		return norm
	}
	best, bestD := "", min(3, len(norm)/3+1)
	for _, c := range candidates {
		if d := EditDistance(norm, c); d <= bestD && (best == "" || d < EditDistance(norm, best)) {
			best = c
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		if len(norm) >= 4 && strings.Contains(c, norm) {
			return c
		}
	}
	return ""
}

// EditDistance is the Levenshtein distance between a and b (bytes).
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
