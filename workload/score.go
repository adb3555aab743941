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
// "no") and, with return_tokens_as_token_ids, "token_id:N".
type Scorer struct {
	yes, no []string
}

// NewScorer returns a Scorer for the given token ids of "yes" and "no".
func NewScorer(yesID, noID int) Scorer {
	return Scorer{
		yes: []string{"token_id:" + strconv.Itoa(yesID), "yes"},
		no:  []string{"token_id:" + strconv.Itoa(noID), "no"},
	}
}

// Score returns P(yes) = 1/(1+exp(lp_no − lp_yes)). A missing "yes" or "no"
// counts as MissingLogprob and is reported through missingYes/missingNo.
func (s Scorer) Score(top map[string]float64) (p float64, missingYes, missingNo bool) {
	lpYes, okYes := lookup(top, s.yes)
	lpNo, okNo := lookup(top, s.no)
	return 1 / (1 + math.Exp(lpNo-lpYes)), !okYes, !okNo
}

func lookup(top map[string]float64, keys []string) (float64, bool) {
	for _, k := range keys {
		if v, ok := top[k]; ok {
			return v, true
		}
	}
	return MissingLogprob, false
}
