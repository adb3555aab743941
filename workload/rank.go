package workload

import (
	"math"
	"slices"
)

// Rank returns document indices ordered by descending score, cut to topN
// (topN <= 0 or > len(scores) keeps all). Equal scores keep document
// order, and NaN (unscored) documents rank last, so the ranking is
// deterministic.
func Rank(scores []float64, topN int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		sa, sb := scores[a], scores[b]
		switch na, nb := math.IsNaN(sa), math.IsNaN(sb); {
		case na && nb:
			return 0
		case na:
			return 1
		case nb:
			return -1
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	if topN > 0 && topN < len(idx) {
		idx = idx[:topN]
	}
	return idx
}

// Quality returns NDCG@topN and MRR@topN of one query, loadgen's one
// definition of ranking quality. The documents are ranked by Rank(scores,
// topN). Relevance is binary and relevant is a set of document indices:
// a duplicate counts once, an index outside the documents not at all.
//
//	NDCG@topN = DCG / IDCG, DCG = Σ 1/log2(r+1) over the relevant documents
//	            at 1-based rank r in the ranking, IDCG = Σ 1/log2(r+1) for
//	            r = 1 … min(|relevant ∩ documents|, topN)
//	MRR@topN  = 1/r of the first relevant document in the ranking, 0 if none
//
// ok is false when no relevant document is among the documents: the query
// has no defined NDCG, and callers leave it out of the averages.
func Quality(scores []float64, relevant []int, topN int) (ndcg, mrr float64, ok bool) {
	isRel := make([]bool, len(scores))
	hits := 0
	for _, d := range relevant {
		if d >= 0 && d < len(scores) && !isRel[d] {
			isRel[d] = true
			hits++
		}
	}
	if hits == 0 {
		return 0, 0, false
	}
	ranked := Rank(scores, topN)
	var dcg, idcg float64
	for i, d := range ranked {
		if isRel[d] {
			dcg += gain(i + 1)
			if mrr == 0 {
				mrr = 1 / float64(i+1)
			}
		}
	}
	for r := 1; r <= min(hits, len(ranked)); r++ {
		idcg += gain(r)
	}
	return dcg / idcg, mrr, true
}

// gain is the discounted gain of a relevant document at 1-based rank r.
func gain(r int) float64 { return 1 / math.Log2(float64(r+1)) }
