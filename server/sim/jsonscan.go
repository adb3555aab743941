package sim

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// jsonScanner is a minimal JSON reader for the completion request, the one
// body on the hot path: it decodes the fields the simulator reads without
// reflection and skips the others. It accepts exactly what encoding/json
// accepts for these shapes (FuzzCompletionRequest checks this).
type jsonScanner struct {
	b []byte
	i int
}

var errSyntax = errors.New("invalid JSON")

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jsonScanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScanner) literal(lit string) error {
	s.ws()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return nil
	}
	return errSyntax
}

// null consumes a null if one is next.
func (s *jsonScanner) null() bool {
	if s.peek() == 'n' {
		return s.literal("null") == nil
	}
	return false
}

// str reads a string. Strings without escapes are returned without
// copying when noCopy (they alias the body).
func (s *jsonScanner) str(noCopy bool) (string, error) {
	if !s.consume('"') {
		return "", errSyntax
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if noCopy {
				return unsafeString(raw), nil
			}
			return string(raw), nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return "", errSyntax
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				return s.strSlow(start)
			}
			s.i += size
		default:
			s.i++
		}
	}
	return "", errSyntax
}

// strSlow decodes a string with escapes (or invalid UTF-8, replaced by
// U+FFFD as encoding/json does) from start.
func (s *jsonScanner) strSlow(start int) (string, error) {
	out := make([]byte, 0, s.i-start+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), nil
		case c < 0x20:
			return "", errSyntax
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return "", errSyntax
			}
			e := s.b[s.i]
			s.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return "", errSyntax
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						save := s.i
						s.i += 2
						if x, ok := s.hex4(); ok {
							r2 = x
						} else {
							return "", errSyntax
						}
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							continue
						}
						s.i = save
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", errSyntax
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, s.b[s.i:s.i+size]...)
			}
			s.i += size
		default:
			out = append(out, c)
			s.i++
		}
	}
	return "", errSyntax
}

func (s *jsonScanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// number returns the text of a JSON number.
func (s *jsonScanner) number() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, errSyntax
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	return s.b[start:s.i], nil
}

// typeError is a value of the wrong JSON type for a field.
type typeError struct{ field, want string }

func (e *typeError) Error() string { return fmt.Sprintf("%s: want %s", e.field, e.want) }

func (s *jsonScanner) int(field string) (int, error) {
	if c := s.peek(); c != '-' && (c < '0' || c > '9') {
		if err := s.skip(); err != nil {
			return 0, err
		}
		return 0, &typeError{field, "integer"}
	}
	num, err := s.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(unsafeString(num))
	if err != nil {
		return 0, &typeError{field, "integer"}
	}
	return n, nil
}

func (s *jsonScanner) float(field string) (float64, error) {
	if c := s.peek(); c != '-' && (c < '0' || c > '9') {
		if err := s.skip(); err != nil {
			return 0, err
		}
		return 0, &typeError{field, "number"}
	}
	num, err := s.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(unsafeString(num), 64)
	if err != nil {
		return 0, &typeError{field, "number"}
	}
	return f, nil
}

func (s *jsonScanner) bool(field string) (bool, error) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	if err := s.skip(); err != nil {
		return false, err
	}
	return false, &typeError{field, "boolean"}
}

// ints reads an array of integers.
func (s *jsonScanner) ints(field string, dst []int) ([]int, error) {
	if s.peek() != '[' {
		if err := s.skip(); err != nil {
			return nil, err
		}
		return nil, &typeError{field, "array of integers"}
	}
	s.i++
	if s.consume(']') {
		return []int{}, nil
	}
	var terr error
	for {
		n, err := s.int(field)
		if err != nil {
			if _, ok := err.(*typeError); !ok {
				return nil, err
			}
			terr = err
		}
		dst = append(dst, n)
		if s.consume(']') {
			if terr != nil {
				return nil, terr
			}
			return dst, nil
		}
		if !s.consume(',') {
			return nil, errSyntax
		}
	}
}

// skip skips one value of any type.
func (s *jsonScanner) skip() error {
	switch s.peek() {
	case '"':
		_, err := s.str(true)
		return err
	case '{':
		s.i++
		if s.consume('}') {
			return nil
		}
		for {
			if _, err := s.str(true); err != nil {
				return err
			}
			if !s.consume(':') {
				return errSyntax
			}
			if err := s.skip(); err != nil {
				return err
			}
			if s.consume('}') {
				return nil
			}
			if !s.consume(',') {
				return errSyntax
			}
		}
	case '[':
		s.i++
		if s.consume(']') {
			return nil
		}
		for {
			if err := s.skip(); err != nil {
				return err
			}
			if s.consume(']') {
				return nil
			}
			if !s.consume(',') {
				return errSyntax
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

// object calls field for each member of an object; field must consume the
// value.
func (s *jsonScanner) object(field func(key string) error) error {
	if !s.consume('{') {
		return errSyntax
	}
	if s.consume('}') {
		return nil
	}
	for {
		key, err := s.str(true)
		if err != nil {
			return err
		}
		if !s.consume(':') {
			return errSyntax
		}
		if err := field(key); err != nil {
			return err
		}
		if s.consume('}') {
			return nil
		}
		if !s.consume(',') {
			return errSyntax
		}
	}
}

// end reports whether only white space is left.
func (s *jsonScanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
