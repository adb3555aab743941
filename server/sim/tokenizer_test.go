package sim

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTokenizeIDs checks the ids that must be Qwen3's.
func TestTokenizeIDs(t *testing.T) {
	rows := []struct {
		text string
		want []int
	}{
		// The reranker's answers.
		{"yes", []int{TokYes}},
		{"no", []int{TokNo}},
		// Special tokens inside text, and newline runs.
		{"<|im_start|>system\n", []int{TokImStart, TokSystem, TokNewline}},
		{"<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", []int{TokImEnd, TokNewline, TokImStart, TokAssistant, TokNewline, TokThink, TokDoubleNewline, TokThinkEnd, TokDoubleNewline}},
		{"<|endoftext|>", []int{TokEndOfText}},
		// Three newlines are "\n\n" then "\n".
		{"\n\n\n", []int{TokDoubleNewline, TokNewline}},
	}
	for _, r := range rows {
		if got := Tokenize(nil, r.text); !slices.Equal(got, r.want) {
			t.Errorf("Tokenize(%q) = %v, want %v", r.text, got, r.want)
		}
	}
	// The reranker suffix is the real one (Qwen3 tokenizer ids).
	if got := Tokenize(nil, rerankSuffix); !slices.Equal(got, []int{151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271}) {
		t.Errorf("suffix ids %v", got)
	}
}

// TestTokenizeRatio checks ≈1.3 tokens per English word, one per
// punctuation mark and per digit.
func TestTokenizeRatio(t *testing.T) {
	text := `Homeowners insurance typically covers damage caused by fire, windstorms, hail, and theft. However, most standard policies exclude flood damage, which requires a separate policy through the National Flood Insurance Program. Your deductible is the amount you pay out of pocket before coverage begins; choosing a higher deductible usually lowers your premium. If you file a claim, an adjuster will inspect the damage and estimate repair costs.`
	words := len(strings.Fields(text))
	ratio := float64(CountTokens(text)) / float64(words)
	if ratio < 1.15 || ratio > 1.45 {
		t.Fatalf("%.2f tokens per word, want ≈1.3", ratio)
	}
	if got := CountTokens("a, b. c!"); got != 6 {
		t.Fatalf("punctuation: %d tokens, want 6", got)
	}
	if got := CountTokens(" 2024"); got != 4 {
		t.Fatalf("digits: %d tokens, want 4", got)
	}
}

// TestDetokenizeRoundTrip checks /detokenize inverts /tokenize.
func TestDetokenizeRoundTrip(t *testing.T) {
	for _, s := range []string{rerankPrompt("q?", "d: 1,2 — é 保険"), "  two  spaces\ttab\r\n", "ümlaut ÅÄÖ", string([]byte{0xff, 'a'})} {
		got, err := Detokenize(Tokenize(nil, s))
		if err != nil || got != s {
			t.Errorf("round trip of %q gave %q, %v", s, got, err)
		}
	}
	if _, err := Detokenize([]int{VocabSize}); err == nil || err.Error() != "Token id 151669 is out of vocabulary" {
		t.Errorf("out-of-vocabulary id: %v", err)
	}
}

// FuzzTokenizeRoundTrip checks pieces concatenate back to the input and
// ids decode back to it.
func FuzzTokenizeRoundTrip(f *testing.F) {
	f.Add(rerankPrompt("what is covered", "fire, theft\n\nand 3 storms"))
	f.Add("<|im_start <think> </think x \n \t ")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Join(TokenPieces(s), "") != s {
			t.Fatalf("pieces of %q do not concatenate back", s)
		}
		ids := Tokenize(nil, s)
		if len(ids) != CountTokens(s) && utf8.ValidString(s) {
			t.Fatalf("CountTokens disagrees with Tokenize for %q", s)
		}
		if got, err := Detokenize(ids); err != nil || got != s {
			t.Fatalf("round trip of %q gave %q, %v", s, got, err)
		}
	})
}
