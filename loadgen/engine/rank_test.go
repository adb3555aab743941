package engine

import (
	"math"
	"testing"
)

func TestRankQuality(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	l2 := func(r float64) float64 { return 1 / math.Log2(r+1) }
	tests := []struct {
		name      string
		scores    []float64
		relevant  []int
		topN      int
		ndcg, mrr float64
	}{
		{"perfect", []float64{0.9, 0.1, 0.5}, []int{0}, 2, 1, 1},                       // relevant ranked first
		{"second", []float64{0.1, 0.9, 0.5}, []int{0}, 3, l2(3) / l2(1), 1.0 / 3},      // ranked third of three
		{"outside top", []float64{0.1, 0.9, 0.5}, []int{0}, 2, 0, 1.0 / 3},             // cut by top_n, MRR still sees it
		{"two relevant", []float64{0.9, 0.8, 0.1}, []int{0, 2}, 2, 1 / (1 + l2(2)), 1}, // ideal has two hits
		{"unscored last", []float64{nan, 0.2, 0.1}, []int{0}, 3, l2(3), 1.0 / 3},       // NaN sorts last
		{"ties by index", []float64{0.5, 0.5}, []int{1}, 1, 0, 0.5},                    // stable order
		{"no labels", []float64{0.5}, nil, 1, 0, 0},                                    // nothing to judge
	}
	for _, tc := range tests {
		ndcg, mrr := RankQuality(tc.scores, tc.relevant, tc.topN)
		if math.Abs(ndcg-tc.ndcg) > 1e-12 || math.Abs(mrr-tc.mrr) > 1e-12 {
			t.Errorf("%s: ndcg %v mrr %v, want %v %v", tc.name, ndcg, mrr, tc.ndcg, tc.mrr)
		}
	}
}
