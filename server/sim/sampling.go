package sim

import (
	"math"
	"sync"
)

// candidate is one token of an output position's distribution.
type candidate struct {
	id int
	lp float64
	// txt is lp as rendered in JSON, computed once per distribution (the
	// shortest float formatting is the costliest step of a response).
	txt string
}

func newCandidate(id int, lp float64) candidate {
	return candidate{id: id, lp: lp, txt: string(appendLogprob(nil, lp))}
}

// genToken is one generated token with the distribution it was drawn from
// (ranked, most likely first).
type genToken struct {
	id    int
	text  string
	lp    float64
	lpTxt string
	top   []candidate
}

// otherAnswers are the first-token alternatives to "yes"/"no", and filler
// the vocabulary of later tokens; their ids are assigned once, in this
// order, before any request.
var (
	otherAnswers = []string{"Yes", "No", " yes", " no", "YES", "NO", "\n", "The", "Based", "I",
		"Answer", "Relevant", "Document", "true", "false", "1", "0", "Not", "None", "maybe",
		"Maybe", "N", "Y", "\n\n"}
	filler = []string{" the", " policy", " covers", " damage", " and", " claims", " insurer",
		" of", " to", " is", ".", ",", " a", " in", " for", " coverage", " your", " deduct",
		" premium", " it", " may", " be"}
	genOnce                 sync.Once
	otherIDs, fillerIDs     []int
	otherLogw, fillerLogw   []float64
	otherCands, fillerCands []candidate
	otherMass               = math.Log(1 - answerMass)
	fillerTop, fillerDecay  = 0.55, 0.55
	answerDecay             = 0.6
)

func initGen() {
	genOnce.Do(func() {
		otherIDs, otherLogw = idsAndWeights(otherAnswers, 1, answerDecay)
		fillerIDs, fillerLogw = idsAndWeights(filler, fillerTop, fillerDecay)
		for i, id := range otherIDs {
			otherCands = append(otherCands, newCandidate(id, otherMass+otherLogw[i]))
		}
		for i, id := range fillerIDs {
			fillerCands = append(fillerCands, newCandidate(id, fillerLogw[i]))
		}
	})
}

// idsAndWeights gives pieces geometric weights first·decay^k, normalised
// so they sum to 1 (in log space).
func idsAndWeights(pieces []string, first, decay float64) ([]int, []float64) {
	ids := make([]int, len(pieces))
	lw := make([]float64, len(pieces))
	sum := 0.0
	for i := range pieces {
		sum += first * math.Pow(decay, float64(i))
	}
	for i, p := range pieces {
		ids[i] = Tokenize(nil, p)[0]
		lw[i] = math.Log(first * math.Pow(decay, float64(i)) / sum)
	}
	return ids, lw
}

// firstDist is the distribution of a reranker's first output token for
// relevance p: yes and no carry answerMass between them, the rest spread
// over otherAnswers.
func firstDist(dst []candidate, p float64) []candidate {
	initGen()
	p = math.Min(math.Max(p, 1e-9), 1-1e-9)
	dst = append(dst[:0], newCandidate(TokYes, math.Log(p*answerMass)), newCandidate(TokNo, math.Log((1-p)*answerMass)))
	dst = append(dst, otherCands...)
	sortCandidates(dst)
	return dst
}

// laterDist is the distribution of output position k ≥ 1: filler words in
// an order rotated by the prompt hash and the position.
func laterDist(dst []candidate, h uint64, k int) []candidate {
	initGen()
	n := len(fillerIDs)
	off := int((h + uint64(k)*7) % uint64(n))
	dst = dst[:0]
	for i := 0; i < n; i++ {
		c := fillerCands[i]
		c.id = fillerIDs[(off+i)%n]
		dst = append(dst, c)
	}
	return dst
}

func sortCandidates(c []candidate) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j].lp > c[j-1].lp; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

// pick draws the output token from dist (ranked): greedy at temperature 0,
// else sampled with weights exp(lp/T) using u ∈ [0,1). allowed, when
// non-nil, restricts the choice (vLLM masks after taking raw logprobs, so
// the reported logprobs are unchanged); a token outside dist gets
// floorLogprob.
func pick(dist []candidate, temperature float64, allowed []int, u float64) candidate {
	ok := func(id int) bool {
		if allowed == nil {
			return true
		}
		for _, a := range allowed {
			if a == id {
				return true
			}
		}
		return false
	}
	if temperature <= 0 {
		for _, c := range dist {
			if ok(c.id) {
				return c
			}
		}
		return newCandidate(allowed[0], floorLogprob)
	}
	total := 0.0
	for _, c := range dist {
		if ok(c.id) {
			total += math.Exp(c.lp / temperature)
		}
	}
	if total == 0 {
		return newCandidate(allowed[0], floorLogprob)
	}
	x := u * total
	last := -1
	for i, c := range dist {
		if !ok(c.id) {
			continue
		}
		last = i
		x -= math.Exp(c.lp / temperature)
		if x < 0 {
			return c
		}
	}
	return dist[last]
}

// splitmix64 is a stateless mixer used to derive per-token random numbers
// from (seed, prompt, position), so sampling does not depend on timing.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func unit(x uint64) float64 { return float64(splitmix64(x)>>11) / (1 << 53) }
