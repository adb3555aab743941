package workload

import (
	"math"
	"strconv"
)

// MissingLogprob is the logprob used for "yes" or "no" when it is absent
// from the top logprobs, as the official Qwen3-Reranker vLLM code does.
const MissingLogprob = -10.0

// Qwen3 token ids of the reranker's answers.
const (
	Qwen3YesID = 9693
	Qwen3NoID  = 2152
)

// Scorer turns the top_logprobs of a choice's first generated token into
// P(yes). It accepts both key forms vLLM uses: the decoded strings ("yes",
// "no") and, with return_tokens_as_token_ids, "token_id:N"; when both
// forms are present the token id form wins.
//
// A decoder feeds it the top_logprobs entries as it reads them (Add), into
// a TopLogprobs per token, and asks for P(yes) at the end (Score); nothing
// is allocated.
type Scorer struct {
	yesID, noID string // "token_id:N" keys
}

// NewScorer returns a Scorer for the given token ids of "yes" and "no".
func NewScorer(yesID, noID int) Scorer {
	return Scorer{yesID: "token_id:" + strconv.Itoa(yesID), noID: "token_id:" + strconv.Itoa(noID)}
}

// The keys a Scorer reads, in order of preference for each answer.
const (
	keyYesID = iota
	keyYes
	keyNoID
	keyNo
	numKeys
)

// TopLogprobs holds the logprobs of the answers' keys found among one
// token's top_logprobs. The zero value holds none.
type TopLogprobs struct {
	lp  [numKeys]float64
	has [numKeys]bool
}

// Add records one top_logprobs entry in t. Keys other than the answers'
// are ignored; a key added twice keeps its last logprob (as decoding the
// JSON object into a map does).
func (s Scorer) Add(t *TopLogprobs, key string, logprob float64) {
	if k := s.key(key); k >= 0 {
		t.lp[k], t.has[k] = logprob, true
	}
}

// Reads reports whether Add records key (a decoder need not convert the
// logprob of any other key).
func (s Scorer) Reads(key string) bool { return s.key(key) >= 0 }

// key returns the index of an answer's key, or −1.
func (s Scorer) key(key string) int {
	switch key {
	case s.yesID:
		return keyYesID
	case "yes":
		return keyYes
	case s.noID:
		return keyNoID
	case "no":
		return keyNo
	}
	return -1
}

// Score returns P(yes) = 1/(1+exp(lp_no − lp_yes)) from t. A missing "yes"
// or "no" counts as MissingLogprob and is reported through
// missingYes/missingNo.
func (s Scorer) Score(t *TopLogprobs) (p float64, missingYes, missingNo bool) {
	lpYes, okYes := t.answer(keyYesID, keyYes)
	lpNo, okNo := t.answer(keyNoID, keyNo)
	return 1 / (1 + math.Exp(lpNo-lpYes)), !okYes, !okNo
}

// answer returns the logprob of an answer from its preferred key, else
// from its other key, else MissingLogprob.
func (t *TopLogprobs) answer(preferred, other int) (float64, bool) {
	switch {
	case t.has[preferred]:
		return t.lp[preferred], true
	case t.has[other]:
		return t.lp[other], true
	}
	return MissingLogprob, false
}
