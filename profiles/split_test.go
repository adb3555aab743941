package profiles

import (
	"strings"
	"testing"

	"loadgen/loadgen/schema"
)

func TestSplitPhase(t *testing.T) {
	poisson := Phase{Name: "p", Arrival: ArrivalPoisson, Rate: QPS(6), Queries: 10, Warmup: 3, MaxConcurrency: 8, Seed: 5}
	tests := []struct {
		name  string
		ph    Phase
		n     int
		check func(t *testing.T, shares []Phase)
		err   string
	}{
		{"poisson in three", poisson, 3, func(t *testing.T, s []Phase) {
			var q, w, c int
			seeds := map[int64]bool{}
			for _, p := range s {
				if p.Rate != QPS(2) || p.Clients != 0 {
					t.Errorf("a share's rate %v (want 2), clients %d", p.Rate, p.Clients)
				}
				q, w, c = q+p.Queries, w+p.Warmup, c+p.MaxConcurrency
				seeds[p.Seed] = true
			}
			// 10 = 4+3+3, 3 = 1+1+1, 8 = 3+3+2: the shares add up.
			if q != 10 || w != 3 || c != 8 || s[0].Queries != 4 || s[2].MaxConcurrency != 2 || len(seeds) != 3 {
				t.Errorf("queries %d warmup %d cap %d (first %d, last cap %d), %d distinct seeds", q, w, c, s[0].Queries, s[2].MaxConcurrency, len(seeds))
			}
		}, ""},
		{"a ramp's ends", Phase{Name: "r", Arrival: ArrivalPoisson, Ramp: &Ramp{Strategy: RampLinear, From: QPS(2), To: QPS(8)}, Duration: Duration(10e9)}, 2,
			func(t *testing.T, s []Phase) {
				if s[1].Ramp.From != QPS(1) || s[1].Ramp.To != QPS(4) || s[0].Duration != Duration(10e9) {
					t.Errorf("ramp %+v duration %v", *s[1].Ramp, s[0].Duration)
				}
			}, ""},
		{"inf splits its cap", Phase{Name: "i", Arrival: ArrivalInf, Rate: RateValue{QPS: InfRate}, MaxConcurrency: 4, Queries: 12}, 2,
			func(t *testing.T, s []Phase) {
				if !s[0].Rate.IsInf() || s[0].MaxConcurrency != 2 || s[1].Queries != 6 {
					t.Errorf("share %+v", s[0])
				}
			}, ""},
		{"one client", Phase{Name: "s", Arrival: ArrivalSync}, 1, func(t *testing.T, s []Phase) {
			if s[0].Arrival != ArrivalSync {
				t.Errorf("changed: %+v", s[0])
			}
		}, ""},
		{"sync", Phase{Name: "s", Arrival: ArrivalSync, Queries: 4}, 2, nil, "one query at a time"},
		{"gamma", Phase{Name: "g", Arrival: ArrivalGamma, Rate: QPS(2), Burstiness: 0.5, Queries: 4}, 2, nil, "do not add up to a gamma stream"},
		{"constant", Phase{Name: "c", Arrival: ArrivalConstant, Rate: QPS(2), Queries: 4}, 2, nil, "do not add up to a constant stream"},
		{"too few queries", Phase{Name: "p", Arrival: ArrivalPoisson, Rate: QPS(2), Queries: 1}, 2, nil, "every client needs at least one query"},
		{"too small a cap", Phase{Name: "i", Arrival: ArrivalInf, Rate: RateValue{QPS: InfRate}, MaxConcurrency: 1, Queries: 4}, 2, nil, "at least one request in flight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var shares []Phase
			for i := range tt.n {
				s, err := SplitPhase(tt.ph, schema.Part{Index: i, Count: tt.n})
				if tt.err != "" {
					if err == nil || !strings.Contains(err.Error(), tt.err) {
						t.Fatalf("error %v, want one containing %q", err, tt.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				shares = append(shares, s)
			}
			tt.check(t, shares)
		})
	}
	if a, again := ClientSeed(1, 0), ClientSeed(1, 0); a == ClientSeed(1, 1) || a != again || a == ClientSeed(2, 0) {
		t.Error("client seeds are not distinct per client and phase seed, or not deterministic")
	}
}
