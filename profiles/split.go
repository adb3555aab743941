package profiles

import (
	"fmt"

	"loadgen/loadgen/schema"
)

// SplitPhase is client part.Index's share of a phase whose load part.Count
// clients send together: 1/Count of the rate (and of a ramp's ends), its
// share of the queries, the warmup and the concurrency cap (dealt so that
// the shares add up to the whole), the same duration, and a seed of its own
// (ClientSeed). Independent Poisson streams of rate λ/N superpose to a
// Poisson stream of rate λ, and inf arrivals under a cap split into caps
// that add up; the other arrivals do not superpose to themselves, so a
// sync (one query at a time), gamma or constant phase cannot be split. A
// phase of one client is returned as it is.
func SplitPhase(ph Phase, part schema.Part) (Phase, error) {
	if part.Count <= 1 {
		return ph, nil
	}
	if err := checkSplit(ph, part.Count, ProfileKeys); err != nil {
		return Phase{}, fmt.Errorf("phase %s: %w", ph.Name, err)
	}
	n := float64(part.Count)
	out := ph
	out.Clients = 0
	if ph.Arrival != ArrivalInf {
		out.Rate = ph.Rate.divided(n)
	}
	if ph.Ramp != nil {
		r := *ph.Ramp
		r.From, r.To = r.From.divided(n), r.To.divided(n)
		out.Ramp = &r
	}
	out.Queries = share(ph.Queries, part)
	out.Warmup = share(ph.Warmup, part)
	out.MaxConcurrency = share(ph.MaxConcurrency, part)
	out.Seed = ClientSeed(ph.Seed, part.Index)
	return out, nil
}

// checkSplit says why a phase cannot be split across n clients (nil when
// it can); names says how to name its keys.
func checkSplit(ph Phase, n int, names KeyNames) error {
	switch {
	case ph.Search != nil:
		return fmt.Errorf("a search runs each trial from one client, whose saturation stop judges the whole trial: remove %s", names.Key("clients"))
	case ph.SaturationStop:
		return fmt.Errorf("the saturation stop judges a phase as one client sees it, and %d clients would each judge a share: remove %s or %s",
			n, names.Key("clients"), names.Key("saturation_stop"))
	}
	switch ph.Arrival {
	case ArrivalSync:
		return fmt.Errorf("a sync phase sends one query at a time: %d clients would send %d at a time; split a poisson or inf phase instead", n, n)
	case ArrivalGamma, ArrivalConstant:
		return fmt.Errorf("%d %s streams at 1/%d of the rate do not add up to a %s stream (only Poisson streams do): use poisson, or one client", n, ph.Arrival, n, ph.Arrival)
	}
	switch {
	case ph.Queries > 0 && ph.Queries < n:
		return fmt.Errorf("%s %d cannot be shared by %d clients: every client needs at least one query", names.Key("queries"), ph.Queries, n)
	case ph.MaxConcurrency > 0 && ph.MaxConcurrency < n:
		return fmt.Errorf("%s %d cannot be shared by %d clients: every client needs at least one request in flight", names.Key("max_concurrency"), ph.MaxConcurrency, n)
	case ph.Queries == 0 && ph.Duration == 0:
		return fmt.Errorf("a phase split across clients needs %s or %s", names.Key("queries"), names.Key("duration"))
	}
	return nil
}

// share is client p's share of total: total/Count, plus one for the first
// total%Count clients, so that the shares add up to total.
func share(total int, p schema.Part) int {
	s := total / p.Count
	if p.Index < total%p.Count {
		s++
	}
	return s
}

// ClientSeed is the arrival seed of client i of a phase seeded seed: the
// splitmix64 finaliser of the two, so that the clients' schedules are
// independent streams and the same split always draws the same ones.
func ClientSeed(seed int64, i int) int64 {
	z := uint64(seed) + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64(z ^ (z >> 31))
}

// Alone says why a phase cannot run on its own, outside a sweep of its
// profile (nil when it can): a share of capacity, or a search bounded by
// it, needs the capacity an earlier phase of the sweep measures.
func (ph Phase) Alone() error {
	if ph.Capacity == "" {
		return nil
	}
	what := "its rate is a share"
	if ph.Search != nil {
		what = "its search's upper bound is"
	}
	return fmt.Errorf("phase %s: %s of the capacity phase %s measures, which a phase run on its own does not have: run the sweep, or give it rates in queries/s",
		ph.Name, what, ph.Capacity)
}
