package engine

import (
	"math"
	"sort"
)

// RankQuality is the default Options.Rank: it orders documents by score
// (highest first; unscored NaN documents last; ties by index) and returns
// NDCG@topN with binary relevance (gain 1 for a relevant document,
// discount log2(rank+1), ideal DCG from min(|relevant|, topN) hits) and the
// reciprocal rank of the first relevant document in the whole ranking (0
// when none is ranked). topN ≤ 0 means every document.
func RankQuality(scores []float64, relevant []int, topN int) (ndcg, mrr float64) {
	n := len(scores)
	if n == 0 || len(relevant) == 0 {
		return 0, 0
	}
	if topN <= 0 || topN > n {
		topN = n
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		sa, sb := scores[order[a]], scores[order[b]]
		if math.IsNaN(sb) {
			return !math.IsNaN(sa)
		}
		return sa > sb
	})
	rel := make(map[int]bool, len(relevant))
	for _, d := range relevant {
		rel[d] = true
	}
	var dcg float64
	for rank, d := range order {
		if !rel[d] {
			continue
		}
		if mrr == 0 {
			mrr = 1 / float64(rank+1)
		}
		if rank < topN {
			dcg += 1 / math.Log2(float64(rank+2))
		}
	}
	var ideal float64
	for rank := range min(len(rel), topN) {
		ideal += 1 / math.Log2(float64(rank+2))
	}
	return dcg / ideal, mrr
}
