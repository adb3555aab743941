package jsonscan

import (
	"strconv"
)

// String reads a string. With alias, a string without escapes or invalid
// UTF-8 shares memory with the text instead of being copied.
func (s *Scanner) String(field string, alias bool) (string, error) {
	if s.Peek() != '"' {
		return "", s.Mismatch(field, "string")
	}
	return s.str(alias)
}

// Bool reads true or false.
func (s *Scanner) Bool(field string) (bool, error) {
	switch s.Peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, s.Mismatch(field, "boolean")
}

// Int reads an integer that fits an int.
func (s *Scanner) Int(field string) (int, error) {
	n, err := s.integer(field, strconv.IntSize)
	return int(n), err
}

// Int64 reads an integer that fits an int64.
func (s *Scanner) Int64(field string) (int64, error) {
	return s.integer(field, 64)
}

func (s *Scanner) integer(field string, bits uint) (int64, error) {
	if c := s.Peek(); c != '-' && (c < '0' || c > '9') {
		return 0, s.Mismatch(field, "integer")
	}
	num, err := s.number()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(num, bits)
	if !ok {
		return 0, &TypeError{field, "integer"}
	}
	return n, nil
}

// parseInt parses a JSON number as a signed integer of the given size;
// a fraction, an exponent or overflow is not an integer.
func parseInt(num []byte, bits uint) (int64, bool) {
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	var v uint64
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// Float reads a number that fits a float64.
func (s *Scanner) Float(field string) (float64, error) {
	num, err := s.FloatText(field)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(unsafeString(num), 64) // FloatText checked it fits
}

// FloatText reads a number that fits a float64, as Float does, and returns
// its text instead of its value, for a decoder that needs the values of a
// few numbers among many. The text aliases the input.
func (s *Scanner) FloatText(field string) ([]byte, error) {
	if c := s.Peek(); c != '-' && (c < '0' || c > '9') {
		return nil, s.Mismatch(field, "number")
	}
	num, exp, err := s.numberExp()
	if err != nil {
		return nil, err
	}
	// Without an exponent and under 300 characters a number always fits;
	// others are converted to find out.
	if exp || len(num) >= 300 {
		if _, err := strconv.ParseFloat(unsafeString(num), 64); err != nil {
			return nil, &TypeError{field, "number"}
		}
	}
	return num, nil
}

// Ints reads an array of integers, appending them to dst[:0]; a null
// element reads as 0. An empty array gives a non-nil empty slice.
func (s *Scanner) Ints(field string, dst []int) ([]int, error) {
	if s.Peek() != '[' {
		return nil, s.Mismatch(field, "array of integers")
	}
	dst = dst[:0]
	if dst == nil {
		dst = []int{}
	}
	err := s.Array(field, func(int) error {
		if s.Null() {
			dst = append(dst, 0)
			return nil
		}
		n, err := s.Int(field)
		dst = append(dst, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// number consumes a number and returns its text.
func (s *Scanner) number() ([]byte, error) {
	num, _, err := s.numberExp()
	return num, err
}

// numberExp consumes a number and returns its text and whether it has an
// exponent. It works on locals: numbers are most of a chunk's values.
func (s *Scanner) numberExp() (num []byte, exp bool, err error) {
	s.ws()
	b, i := s.b, s.i
	start := i
	digits := func() int {
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - d
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		s.i = i
		return nil, false, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			s.i = i
			return nil, false, ErrSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		exp = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.i = i
			return nil, false, ErrSyntax
		}
	}
	s.i = i
	return b[start:i], exp, nil
}

// FloatObject reads an object whose values are numbers that fit a float64
// or nulls, as encoding/json decodes a map[string]float64: it calls member
// with each key and the number's text (nil for a null), which alias the
// input, in order (a key given twice is given twice; the last one is the
// map's). A value of another type is skipped and reported as a TypeError
// for field once the object has been read, as by Object, and so is a value
// that is not an object.
//
// It is the scan of a token's top logprobs, most of a scored stream chunk:
// a member written the way vLLM writes it ("key":number, an ASCII key
// without escapes, no white space) is read by one tight loop; any other
// member takes the general path.
//
// It keeps its own copy of container's loop: calling the member through
// container's closure made the scan of a scored chunk about 15% slower
// (BenchmarkChunkParseScored, ten interleaved runs on one core).
func (s *Scanner) FloatObject(field string, member func(key string, num []byte)) error {
	if !s.open('{') {
		return s.Mismatch(field, "object")
	}
	if s.depth > MaxDepth {
		return ErrSyntax
	}
	var typeErr error
	if !s.consume('}') {
		for {
			if key, num, next, ok := plainFloatMember(s.b, s.i); ok {
				s.i = next
				member(key, num)
			} else if err := s.floatMember(field, member); err != nil {
				if !isTypeError(err) {
					return err
				}
				if typeErr == nil {
					typeErr = err
				}
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
	return typeErr
}

// floatMember reads one member of a FloatObject the general way.
func (s *Scanner) floatMember(field string, member func(key string, num []byte)) error {
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
	if s.Null() {
		member(key, nil)
		return nil
	}
	num, err := s.FloatText(field)
	if err == nil {
		member(key, num)
	}
	return err
}

// plainFloatMember reads a member `"key":number` at b[i] with a key of
// plain ASCII (no escape) and a number without exponent, under 300 bytes
// (so it fits a float64), followed directly by ',' or '}' (not consumed).
// ok is false, and nothing is consumed, for anything else.
func plainFloatMember(b []byte, i int) (key string, num []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return "", nil, 0, false
	}
	k := i + 1
	j := k
	for j < len(b) && plain[b[j]] {
		j++
	}
	if j+1 >= len(b) || b[j] != '"' || b[j+1] != ':' {
		return "", nil, 0, false
	}
	key = unsafeString(b[k:j])
	n := j + 2
	j = n
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return "", nil, 0, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		d := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == d {
			return "", nil, 0, false
		}
	}
	if j >= len(b) || (b[j] != ',' && b[j] != '}') || j-n >= 300 {
		return "", nil, 0, false
	}
	return key, b[n:j], j, true
}
