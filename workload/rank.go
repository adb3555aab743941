package workload

import (
	"math"
	"slices"
)

// Rank returns document indices ordered by descending score, cut to topN
// (topN <= 0 keeps all). Equal scores keep document order, and NaN scores
// rank last, so the ranking is deterministic.
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

// NDCG returns the normalised discounted cumulative gain at k of a ranking
// with binary relevance: DCG = Σ_{i<k, ranked[i] relevant} 1/log2(i+2),
// divided by the DCG of an ideal ranking, Σ_{i<min(k,|relevant|)}
// 1/log2(i+2). k <= 0 means len(ranked). A query with no relevant document
// has no defined NDCG; it returns 0, and callers average NDCG and MRR over
// the queries with at least one relevant document.
func NDCG(ranked []int, relevant []int, k int) float64 {
	if len(relevant) == 0 {
		return 0
	}
	if k <= 0 {
		k = len(ranked)
	}
	var dcg, ideal float64
	for i := 0; i < k && i < len(ranked); i++ {
		if slices.Contains(relevant, ranked[i]) {
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	for i := 0; i < k && i < len(relevant); i++ {
		ideal += 1 / math.Log2(float64(i+2))
	}
	return dcg / ideal
}

// MRR returns the reciprocal rank of the first relevant document in ranked
// (1/position, 1-based), or 0 when none is ranked: a query's contribution to
// the mean reciprocal rank.
func MRR(ranked []int, relevant []int) float64 {
	for i, d := range ranked {
		if slices.Contains(relevant, d) {
			return 1 / float64(i+1)
		}
	}
	return 0
}
