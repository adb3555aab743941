package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
)

// plain marks the bytes a string holds as they are: printable ASCII other
// than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the string at s.i (its opening quote). The loop over plain
// bytes works on locals: the hot path of every chunk and request.
func (s *Scanner) str(alias bool) (string, error) {
	b, start := s.b, s.i+1
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case plain[c]:
			i++
		case c == '"':
			s.i = i + 1
			if alias {
				return unsafeString(b[start:i]), nil
			}
			return string(b[start:i]), nil
		case c == '\\':
			s.i = i
			return s.strSlow(start)
		case c < 0x20:
			s.i = i
			return "", ErrSyntax
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				s.i = i
				return s.strSlow(start)
			}
			i += size
		}
	}
	s.i = i
	return "", ErrSyntax
}

// strSlow decodes a string with escapes or invalid UTF-8 (replaced by
// U+FFFD, as encoding/json does) from start, its first byte after the
// quote; s.i is at the first byte that needs decoding.
func (s *Scanner) strSlow(start int) (string, error) {
	out := make([]byte, 0, s.i-start+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case plain[c]:
			out = append(out, c)
			s.i++
		case c == '"':
			s.i++
			return string(out), nil
		case c < 0x20:
			return "", ErrSyntax
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return "", ErrSyntax
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
					return "", ErrSyntax
				}
				if utf16.IsSurrogate(r) {
					// A pair decodes to one rune; a lone half is U+FFFD and
					// the escape after it is read on its own.
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						save := s.i
						s.i += 2
						r2, ok := s.hex4()
						if !ok {
							return "", ErrSyntax
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
				return "", ErrSyntax
			}
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, s.b[s.i:s.i+size]...)
			}
			s.i += size
		}
	}
	return "", ErrSyntax
}

// skipString consumes the string at s.i (its opening quote), checking its
// syntax without decoding it.
func (s *Scanner) skipString() error {
	b, i := s.b, s.i+1
	for i < len(b) && plain[b[i]] {
		i++ // the common case, on locals
	}
	s.i = i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return ErrSyntax
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				if _, ok := s.hex4(); !ok {
					return ErrSyntax
				}
			default:
				return ErrSyntax
			}
		case c < 0x20:
			return ErrSyntax
		default:
			s.i++ // bytes ≥ 0x80 need no check to be skipped
		}
	}
	return ErrSyntax
}

// hex4 reads the four hex digits of a \u escape.
func (s *Scanner) hex4() (rune, bool) {
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
