package sim

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Relevance model. P(yes) for a reranker prompt is a logistic function of
// how much of the query's vocabulary the document contains:
//
//	P = σ(relSlope·overlap + relBias + relNoise·u)
//
// overlap is the fraction of the query's content words (lower-cased, three
// letters or more, stop words removed) found in the document, and u ∈
// [−½, ½) is a hash of (query, document) that breaks ties
// deterministically. No overlap gives P ≈ 0.03, half the words ≈ 0.5, all
// of them ≈ 0.97. Prompts without the Qwen3-Reranker template get a P from
// the hash alone.
const (
	relSlope = 7.0
	relBias  = -3.5
	relNoise = 0.8
	// answerMass is the probability of "yes" plus "no" for the first
	// token; the rest is spread over other tokens so top_logprobs carries
	// more than two entries (lp_yes = log(P·m), lp_no = log((1−P)·m)).
	answerMass = 0.96
	// floorLogprob is the logprob of any token the model does not rank.
	floorLogprob = -23.5
)

var stopWords = toSet(strings.Fields(`the and for are with that this what how does from you your can not
	have has was were will about into which who why when where there their they them its our any all but
	per may should would could than then also such only other more most some his her him she over under
	out off get got one two been being did done each either both very just being does doing`))

func toSet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// parseRerank extracts the query and document of a Qwen3-Reranker prompt
// ("…<Query>: q\n<Document>: d<|im_end|>…").
func parseRerank(text string) (query, doc string, ok bool) {
	_, rest, ok := strings.Cut(text, "<Query>:")
	if !ok {
		return "", "", false
	}
	query, rest, ok = strings.Cut(rest, "<Document>:")
	if !ok {
		return "", "", false
	}
	doc, _, _ = strings.Cut(rest, "<|im_end|>")
	return strings.TrimSpace(query), strings.TrimSpace(doc), true
}

// contentWords returns the lower-cased content words of s.
func contentWords(s string) map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 3 {
			continue
		}
		w = strings.ToLower(w)
		if stopWords[w] {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1] // crude plural folding: covers ~ cover
		}
		words[w] = true
	}
	return words
}

// Relevance returns the simulated P(yes) of a prompt.
func Relevance(prompt string) float64 {
	q, d, ok := parseRerank(prompt)
	if !ok {
		return sigmoid(6 * (unitHash(prompt) - 0.5))
	}
	qw := contentWords(q)
	overlap := 0.0
	if len(qw) > 0 {
		dw := contentWords(d)
		n := 0
		for w := range qw {
			if dw[w] {
				n++
			}
		}
		overlap = float64(n) / float64(len(qw))
	}
	u := unitHash(q+"\x00"+d) - 0.5
	return sigmoid(relSlope*overlap + relBias + relNoise*u)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// unitHash maps s to [0, 1).
func unitHash(s string) float64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return float64(h.Sum64()>>11) / (1 << 53)
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
