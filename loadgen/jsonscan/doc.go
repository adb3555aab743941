// Package jsonscan reads JSON without reflection, value by value, for the
// two bodies on a hot path: the simulator's completion request and the
// load engine's stream chunks. A decoder walks the text with a Scanner,
// reads the members it needs with typed methods and skips the rest; it
// allocates only for strings it keeps and for strings with escapes.
//
// It accepts exactly what encoding/json accepts (RFC 8259 syntax, nesting
// at most MaxDepth deep, invalid UTF-8 in strings replaced by U+FFFD, lone
// surrogate escapes likewise) and decodes each value as encoding/json
// decodes it into the corresponding Go type: Int into an int (no fraction,
// no exponent, in range), Float into a float64 (finite), Ints into an []int
// (a null element is 0), String into a string. Object keys match exactly,
// and the last of duplicate keys wins, as with a map (encoding/json's
// case-insensitive struct field matching is not copied; vLLM's pydantic
// models are case-sensitive). A null where a value is expected is the
// caller's to accept with Null first, as a pointer field would.
//
// Errors follow encoding/json's precedence: ErrSyntax (malformed JSON)
// stops the scan; a *TypeError (well-formed value of the wrong type) is
// returned only after the value was consumed, so a decoder can note it and
// go on, and Object and Array go on by themselves, returning the first
// type error once the whole value has been read. Decode lets a syntax
// error anywhere win over a type error, as encoding/json does.
//
// FuzzScanner checks all of this against encoding/json.
//
// It imports nothing of loadgen's; loadgen/engine and server/sim use it.
package jsonscan
