package jsonscan

import (
	"errors"
	"unsafe"
)

// MaxDepth is how deeply arrays and objects may nest, as in encoding/json.
const MaxDepth = 10000

// ErrSyntax is the error for input that is not valid JSON.
var ErrSyntax = errors.New("invalid JSON")

// TypeError is a well-formed value of the wrong JSON type for a field. The
// value has been consumed: decoding can go on.
type TypeError struct {
	// Field names the value, Want the type it should have had.
	Field, Want string
}

// Error says which field wanted which type.
func (e *TypeError) Error() string { return e.Field + ": want " + e.Want }

func isTypeError(err error) bool {
	_, ok := err.(*TypeError)
	return ok
}

// Scanner reads one JSON text. The zero value reads an empty text; Reset
// or Decode gives it one. Strings it returns with alias set, and the keys
// it hands to Object, share memory with the text: they are valid only
// while the text is not modified.
type Scanner struct {
	b     []byte
	i     int
	depth int
}

// Reset makes s read b from its start.
func (s *Scanner) Reset(b []byte) { s.b, s.i, s.depth = b, 0, 0 }

// Decode reads one JSON text b with read, which consumes one value, and
// checks that only white space follows it. A syntax error (from read, or
// data after the value) wins over a type error returned by read.
func (s *Scanner) Decode(b []byte, read func() error) error {
	s.Reset(b)
	err := read()
	if err != nil && !isTypeError(err) {
		return err
	}
	if s.ws(); s.i != len(s.b) {
		return ErrSyntax
	}
	return err
}

func (s *Scanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // the common case: no white space
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek returns the first byte of the next value after white space ('{',
// '[', '"', 't', 'f', 'n', '-' or a digit when the text is valid), or 0 at
// the end of the text.
func (s *Scanner) Peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// consume consumes c if it is the next byte after white space.
func (s *Scanner) consume(c byte) bool {
	if s.Peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *Scanner) literal(lit string) error {
	s.ws()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return nil
	}
	return ErrSyntax
}

// Null consumes a null if one is next, and reports whether it did.
func (s *Scanner) Null() bool {
	return s.Peek() == 'n' && s.literal("null") == nil
}

// Mismatch skips the next value and returns a TypeError for field, or the
// value's syntax error.
func (s *Scanner) Mismatch(field, want string) error {
	if err := s.Skip(); err != nil {
		return err
	}
	return &TypeError{field, want}
}

func (s *Scanner) open(c byte) bool {
	if !s.consume(c) {
		return false
	}
	s.depth++
	return true
}

// Object calls member for each member of the object that is next, with
// the member's key; member must consume the value. A value that is not an
// object is skipped and reported as a TypeError for field. A syntax error
// from member stops the scan; after a type error Object goes on and
// returns the first one once the object has been read.
func (s *Scanner) Object(field string, member func(key string) error) error {
	return s.container(field, '{', '}', "object", func(int) error {
		if s.Peek() != '"' {
			return ErrSyntax
		}
		key, err := s.str(true)
		if err != nil {
			return err
		}
		if !s.consume(':') {
			return ErrSyntax
		}
		return member(key)
	})
}

// Array calls elem for each element of the array that is next, with the
// element's position; elem must consume the value. Types and errors are
// handled as by Object.
func (s *Scanner) Array(field string, elem func(i int) error) error {
	return s.container(field, '[', ']', "array", elem)
}

// container reads the object or array that is next (open … close), calling
// each for its i-th member or element, which each must consume: the one
// loop of Object, Array and FloatObject. A value of another kind is
// skipped and reported as a TypeError for field (want names the kind); a
// syntax error stops the scan; type errors are collected and the first is
// returned once the container has been read.
func (s *Scanner) container(field string, open, close byte, want string, each func(i int) error) error {
	if !s.open(open) {
		return s.Mismatch(field, want)
	}
	if s.depth > MaxDepth {
		return ErrSyntax
	}
	var typeErr error
	if !s.consume(close) {
		for i := 0; ; i++ {
			if err := each(i); err != nil {
				if !isTypeError(err) {
					return err
				}
				if typeErr == nil {
					typeErr = err
				}
			}
			if s.consume(close) {
				break
			}
			if !s.consume(',') {
				return ErrSyntax
			}
		}
	}
	s.depth--
	return typeErr
}

// Skip consumes the next value, whatever its type, checking its syntax.
func (s *Scanner) Skip() error {
	switch s.Peek() {
	case '"':
		return s.skipString()
	case '{':
		s.i++
		s.depth++
		if s.depth > MaxDepth {
			return ErrSyntax
		}
		if !s.consume('}') {
			for {
				if s.Peek() != '"' {
					return ErrSyntax
				}
				if err := s.skipString(); err != nil {
					return err
				}
				if !s.consume(':') {
					return ErrSyntax
				}
				if err := s.Skip(); err != nil {
					return err
				}
				if s.consume('}') {
					break
				}
				if !s.consume(',') {
					return ErrSyntax
				}
			}
		}
		s.depth--
		return nil
	case '[':
		s.i++
		s.depth++
		if s.depth > MaxDepth {
			return ErrSyntax
		}
		if !s.consume(']') {
			for {
				if err := s.Skip(); err != nil {
					return err
				}
				if s.consume(']') {
					break
				}
				if !s.consume(',') {
					return ErrSyntax
				}
			}
		}
		s.depth--
		return nil
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, err := s.number()
	return err
}

// Raw consumes the next value and returns its text.
func (s *Scanner) Raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.Skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
