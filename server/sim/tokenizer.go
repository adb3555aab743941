package sim

import (
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Qwen3 token ids the simulator gives their real values.
const (
	TokEndOfText     = 151643 // <|endoftext|>
	TokImStart       = 151644 // <|im_start|>
	TokImEnd         = 151645 // <|im_end|>
	TokThink         = 151667 // <think>
	TokThinkEnd      = 151668 // </think>
	TokNewline       = 198    // "\n"
	TokDoubleNewline = 271    // "\n\n"
	TokYes           = 9693   // "yes"
	TokNo            = 2152   // "no"
	TokSystem        = 8948   // "system"
	TokUser          = 872    // "user"
	TokAssistant     = 77091  // "assistant"
	// VocabSize is len(tokenizer) of Qwen3; ids at or above it are out of
	// vocabulary.
	VocabSize = 151669
)

// Id ranges of the simulated vocabulary. Single ASCII characters are their
// own code; other bytes (fallback only) live just below the special tokens;
// every other piece is hashed into [hashLo, hashHi).
const (
	byteFallbackBase = 151400 // + (b - 0x80) for bytes >= 0x80
	hashLo           = 256
	hashHi           = byteFallbackBase
	// Word pieces: a word of up to firstPiece letters is one token, longer
	// words continue in pieces of restPiece letters. With punctuation and
	// digits as tokens of their own this gives ≈1.3 tokens per English
	// word.
	firstPiece = 8
	restPiece  = 5
)

var specialTokens = []struct {
	text string
	id   int
}{
	{"<|endoftext|>", TokEndOfText},
	{"<|im_start|>", TokImStart},
	{"<|im_end|>", TokImEnd},
	{"<think>", TokThink},
	{"</think>", TokThinkEnd},
}

// fixedPieces are ordinary pieces with their real Qwen3 ids.
var fixedPieces = map[string]int{
	"\n": TokNewline, "\n\n": TokDoubleNewline, "yes": TokYes, "no": TokNo,
	"system": TokSystem, "user": TokUser, "assistant": TokAssistant,
}

// vocab maps pieces to ids and back. It is process-wide, so every Server
// of a process (and /tokenize and /detokenize) agrees. An id is a pure
// function of its piece (FNV-1a into the hashed range) unless two pieces
// hash to the same slot; the later one then takes the next free slot, which
// depends on the order pieces were first seen in this process.
type vocab struct {
	mu     sync.RWMutex
	ids    map[string]int32
	pieces []string // by id; "" = unassigned
	used   int
}

var theVocab = newVocab()

func newVocab() *vocab {
	v := &vocab{ids: make(map[string]int32, 4096), pieces: make([]string, VocabSize)}
	for _, s := range specialTokens {
		v.assign(s.text, s.id)
	}
	for p, id := range fixedPieces {
		v.assign(p, id)
	}
	for c := 0; c < 128; c++ {
		if c != '\n' {
			v.pieces[c] = string(rune(c))
		}
	}
	for b := 0x80; b < 0x100; b++ {
		v.pieces[byteFallbackBase+b-0x80] = string([]byte{byte(b)})
	}
	return v
}

func (v *vocab) assign(p string, id int) {
	v.ids[p] = int32(id)
	v.pieces[id] = p
	v.used++
}

// id returns the id of piece p, assigning one on first sight. ok is false
// when the hashed range is full (the caller then falls back to bytes).
func (v *vocab) id(p string) (int, bool) {
	if len(p) == 1 && p[0] < 0x80 && p[0] != '\n' {
		return int(p[0]), true
	}
	v.mu.RLock()
	id, ok := v.ids[p]
	v.mu.RUnlock()
	if ok {
		return int(id), true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if id, ok := v.ids[p]; ok {
		return int(id), true
	}
	if v.used >= (hashHi-hashLo)*9/10 {
		return 0, false
	}
	h := fnv.New64a()
	h.Write([]byte(p))
	slot := hashLo + int(h.Sum64()%uint64(hashHi-hashLo))
	for v.pieces[slot] != "" {
		slot++
		if slot == hashHi {
			slot = hashLo
		}
	}
	v.assign(strings.Clone(p), slot)
	return slot, true
}

// piece returns the text of id; ok is false for ids never assigned.
func (v *vocab) piece(id int) (string, bool) {
	if id < 0 || id >= VocabSize {
		return "", false
	}
	if id < 0x80 || id >= byteFallbackBase && id < byteFallbackBase+0x80 {
		return v.pieces[id], true
	}
	v.mu.RLock()
	p := v.pieces[id]
	v.mu.RUnlock()
	return p, p != ""
}

// Tokenize appends the token ids of s to dst. The rules approximate a
// byte-pair tokenizer cheaply and deterministically: Qwen3's special
// tokens are recognised in the text; newline runs become "\n\n" and "\n";
// a single space joins the word, digit or symbol after it; a word of
// letters is one token up to firstPiece letters and continues in pieces of
// restPiece; each digit, punctuation mark or CJK character is a token.
func Tokenize(dst []int, s string) []int {
	tokenizeFunc(s, func(p string) {
		if id, ok := theVocab.id(p); ok {
			dst = append(dst, id)
			return
		}
		for i := 0; i < len(p); i++ {
			dst = append(dst, byteID(p[i]))
		}
	})
	return dst
}

// TokenPieces returns the pieces Tokenize cuts s into (token_strs).
func TokenPieces(s string) []string {
	var out []string
	tokenizeFunc(s, func(p string) { out = append(out, p) })
	return out
}

// CountTokens returns len(Tokenize(nil, s)) without building the slice.
func CountTokens(s string) int {
	n := 0
	tokenizeFunc(s, func(string) { n++ })
	return n
}

func byteID(b byte) int {
	if b < 0x80 {
		return int(b)
	}
	return byteFallbackBase + int(b) - 0x80
}

// Detokenize returns the text of ids. Ids that this process never produced
// decode as "<|tok_N|>"; ids outside the vocabulary are an error, as in
// vLLM ("Token id N is out of vocabulary").
func Detokenize(ids []int) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= VocabSize {
			return "", outOfVocabError(id)
		}
		p, ok := theVocab.piece(id)
		if !ok {
			p = "<|tok_" + strconv.Itoa(id) + "|>"
		}
		b.WriteString(p)
	}
	return b.String(), nil
}

// outOfVocabError is vLLM's error for a token id outside the vocabulary.
type outOfVocabError int

func (e outOfVocabError) Error() string {
	return "Token id " + strconv.Itoa(int(e)) + " is out of vocabulary"
}

// tokenizeFunc calls emit with each piece of s in order; the pieces
// concatenate back to s exactly.
func tokenizeFunc(s string, emit func(string)) {
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '<':
			if n := specialAt(s[i:]); n > 0 {
				emit(s[i : i+n])
				i += n
				continue
			}
		case c == '\n':
			j := i
			for j < len(s) && s[j] == '\n' {
				j++
			}
			for ; i+1 < j; i += 2 {
				emit("\n\n")
			}
			if i < j {
				emit("\n")
				i = j
			}
			continue
		case c == ' ' || c == '\t' || c == '\r':
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') {
				j++
			}
			// The last space joins a following word, digit or symbol.
			if s[j-1] == ' ' && j < len(s) && s[j] != '\n' && specialAt(s[j:]) == 0 {
				if j-1 > i {
					emit(s[i : j-1])
				}
				i = j - 1
				i += wordAt(s, i, 1, emit)
				continue
			}
			emit(s[i:j])
			i = j
			continue
		}
		i += wordAt(s, i, 0, emit)
	}
}

// wordAt emits the piece(s) starting at s[i] (with `lead` leading space
// bytes already at s[i:]) and returns the number of bytes consumed.
func wordAt(s string, i, lead int, emit func(string)) int {
	start := i
	k := i + lead
	if k >= len(s) {
		emit(s[start:])
		return len(s) - start
	}
	r, size := utf8.DecodeRuneInString(s[k:])
	if !isWordRune(r) || isCJK(r) || unicode.IsDigit(r) {
		// One digit, symbol, punctuation or CJK character (special-token
		// openers are handled by the caller only at a piece start).
		emit(s[start : k+size])
		return k + size - start
	}
	end := k
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if !isWordRune(r) || isCJK(r) || unicode.IsDigit(r) {
			break
		}
		end += size
	}
	if _, ok := fixedPieces[s[start:end]]; ok {
		emit(s[start:end])
		return end - i
	}
	n := 0
	limit := firstPiece
	for k < end {
		_, size := utf8.DecodeRuneInString(s[k:])
		if n == limit {
			emit(s[start:k])
			start, n, limit = k, 0, restPiece
		}
		k += size
		n++
	}
	emit(s[start:k])
	return k - i
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
}

// specialAt returns the length of the special token at the start of s, or 0.
func specialAt(s string) int {
	for _, t := range specialTokens {
		if strings.HasPrefix(s, t.text) {
			return len(t.text)
		}
	}
	return 0
}
