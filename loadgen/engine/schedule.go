package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"loadgen/loadgen/schema"
)

// Schedule yields the absolute offsets, from the phase origin, at which the
// measured arrivals of an open-loop phase are due. It reproduces `vllm bench
// serve`'s get_request: for arrival i it picks a rate r_i (the phase rate, or
// the ramp's rate at i), draws a gap d_i (exponential, gamma or 1/r_i) and
// sums the gaps, so the first arrival is delayed by d_0 too. Without a ramp
// and with a query count N, every offset is scaled so that the last arrival
// falls exactly at N/rate (vLLM's normalisation, which removes seed-dependent
// throughput noise). Offsets past Phase.Duration are not scheduled.
//
// The schedule is a pure function of the phase and its seed: it depends on
// no clock, so two schedules of one phase are identical. It keeps O(1) state
// (normalisation replays the seeded generator once up front, see
// NewSchedule), so a phase of a million arrivals costs no memory. A Schedule is not safe for concurrent
// use.
type Schedule struct {
	arrival string
	rate    float64
	k       float64
	ramp    *schema.Ramp
	n       int           // arrivals to schedule (0: unbounded)
	limit   time.Duration // no arrival after it (0: none)
	scale   float64       // normalisation factor
	seed    int64
	rng     *rand.Rand
	i       int
	done    bool
	t       float64 // unscaled offset of the last arrival, seconds
	last    float64 // rate of the last arrival
}

// normaliseCheck is how many gaps the normalisation replays between two
// looks at its context (about 0.1 ms of work).
const normaliseCheck = 1 << 13

// NewSchedule returns the schedule of an open-loop phase (poisson, gamma,
// constant or inf). The phase must be valid. Sync phases have no schedule:
// each arrival is due when the previous query ends.
//
// vLLM's normalisation replays the phase's N gaps once (about 10 ns each,
// so 10 s for a billion queries). The replay watches ctx and returns its
// error when ctx is done first, so no phase size delays an interrupt.
func NewSchedule(ctx context.Context, ph Phase) (*Schedule, error) {
	s := &Schedule{
		arrival: ph.Arrival,
		rate:    float64(ph.Rate),
		k:       ph.Burstiness,
		ramp:    ph.Ramp,
		n:       ph.Queries,
		limit:   ph.Duration,
		scale:   1,
		seed:    ph.Seed,
	}
	s.rng = newRand(ph.Seed)
	if s.ramp == nil && s.n > 0 && s.arrival != schema.ArrivalInf && s.arrival != schema.ArrivalConstant {
		// Replay the generator to find T_{N-1}, then restart it.
		for i := range s.n {
			if i%normaliseCheck == 0 {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("schedule of %d arrivals: %w", s.n, err)
				}
			}
			s.t += s.gap(s.rate)
		}
		if s.t > 0 {
			s.scale = (float64(s.n) / s.rate) / s.t
		}
		s.t = 0
		s.rng = newRand(ph.Seed)
	}
	return s, nil
}

// Replica returns the same schedule from its first arrival, without
// replaying the normalisation again: the same offsets, for whoever must
// know when arrivals were due (the saturation watch).
func (s *Schedule) Replica() *Schedule {
	r := *s
	r.rng = newRand(s.seed)
	r.i, r.done, r.t, r.last = 0, false, 0, 0
	return &r
}

// newRand returns the seeded generator of a schedule (PCG, seed and a fixed
// stream constant).
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// Next returns the offset of the next arrival from the phase origin, and
// false when the phase has no more arrivals.
func (s *Schedule) Next() (time.Duration, bool) {
	if s.done || (s.n > 0 && s.i >= s.n) {
		return 0, false
	}
	var off time.Duration
	switch {
	case s.arrival == schema.ArrivalInf:
		off = 0
		s.last = math.Inf(1)
		if s.n == 0 {
			// Duration-bounded inf: the dispatcher stops at the deadline.
			s.i++
			return 0, true
		}
	case s.arrival == schema.ArrivalConstant && s.ramp == nil:
		// Exact multiples, no accumulated rounding: T_i = (i+1)/r.
		off = seconds(float64(s.i+1) / s.rate)
		s.last = s.rate
	default:
		r := s.rate
		if s.ramp != nil {
			r = RampRate(*s.ramp, s.progress())
		}
		s.t += s.gap(r)
		off = seconds(s.t * s.scale)
		s.last = r
	}
	if s.limit > 0 && off > s.limit {
		s.done = true
		return 0, false
	}
	s.i++
	return off, true
}

// Rate returns the target rate of the arrival last returned by Next (the
// ramp's current rate, or the phase rate).
func (s *Schedule) Rate() float64 { return s.last }

// progress is the ramp's position p in [0,1] for arrival i: vLLM's
// i/max(N−1,1) with a query count, else the elapsed share of Duration.
func (s *Schedule) progress() float64 {
	if s.n > 0 {
		return float64(s.i) / float64(max(s.n-1, 1))
	}
	return math.Min(s.t/s.limit.Seconds(), 1)
}

// gap draws the gap before the next arrival at rate r, in seconds.
func (s *Schedule) gap(r float64) float64 {
	switch s.arrival {
	case schema.ArrivalConstant:
		return 1 / r
	case schema.ArrivalGamma:
		return GammaRand(s.rng, s.k) / (r * s.k)
	default: // poisson
		return s.rng.ExpFloat64() / r
	}
}

// RampRate is vLLM's per-arrival ramp rate at progress p in [0,1]: linear
// From+(To−From)·p, or exponential From·(To/From)^p.
func RampRate(r schema.Ramp, p float64) float64 {
	if r.Strategy == schema.RampExponential {
		return r.From * math.Pow(r.To/r.From, p)
	}
	return r.From + (r.To-r.From)*p
}

// GammaRand draws from Gamma(shape k, scale 1) with Marsaglia and Tsang's
// method; for k < 1 it uses Gamma(k+1)·U^(1/k).
func GammaRand(rng *rand.Rand, k float64) float64 {
	if k < 1 {
		u := 1 - rng.Float64() // (0,1]
		return GammaRand(rng, k+1) * math.Pow(u, 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 {
			return d * v
		}
		if math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// seconds converts seconds to a Duration, rounding to the nanosecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * 1e9))
}
