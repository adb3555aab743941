package report

import (
	"errors"
	"fmt"
	"math"
)

// ErrTooFewPairs is returned by KendallTauB when fewer than two pairs are
// given: with one config there is no ranking to agree on.
var ErrTooFewPairs = errors.New("kendall tau needs at least two pairs")

// ErrAllTied is returned by KendallTauB when every x or every y is tied,
// so the coefficient is undefined (0/0).
var ErrAllTied = errors.New("kendall tau is undefined: all values of one ranking are tied")

// KendallTauB is Kendall's rank correlation τ_b of x and y, which corrects
// for ties:
//
//	τ_b = (n_c − n_d) / √((n_0 − n_1)(n_0 − n_2))
//
// where n_c and n_d count concordant and discordant pairs, n_0 = n(n−1)/2,
// and n_1, n_2 count the pairs tied in x and in y. It is 1 when the two
// orders agree, −1 when one is the reverse of the other. Pairs tied in x or
// y are neither concordant nor discordant. O(n²), fine for a sweep's
// handful of configs.
func KendallTauB(x, y []float64) (float64, error) {
	if len(x) != len(y) {
		return 0, fmt.Errorf("kendall tau: %d x values but %d y values", len(x), len(y))
	}
	n := len(x)
	if n < 2 {
		return 0, ErrTooFewPairs
	}
	var nc, nd, tx, ty int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dx, dy := sign(x[j]-x[i]), sign(y[j]-y[i])
			switch {
			case dx == 0 && dy == 0:
				tx++
				ty++
			case dx == 0:
				tx++
			case dy == 0:
				ty++
			case dx == dy:
				nc++
			default:
				nd++
			}
		}
	}
	n0 := n * (n - 1) / 2
	den := math.Sqrt(float64(n0-tx) * float64(n0-ty))
	if den == 0 {
		return 0, ErrAllTied
	}
	return float64(nc-nd) / den, nil
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
