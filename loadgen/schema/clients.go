package schema

import (
	"encoding/json"
	"strconv"
	"time"
)

// ClientShare says which share of a phase a client sent: client Index of
// Count, each sending 1/Count of the phase's rate (a share of its queries,
// warmup and concurrency cap) with a seed of its own, so that the clients'
// independent Poisson streams superpose to the phase's. The other fields
// are the phase as a whole, which a merge of the shares reports.
type ClientShare struct {
	Part
	Rate           Rate  `json:"phase_rate"`
	Ramp           *Ramp `json:"phase_ramp,omitempty"`
	Seed           int64 `json:"phase_seed"`
	MaxConcurrency int   `json:"phase_max_concurrency,omitempty"`
}

// ClientFigures are one client's own figures in a merged phase: its
// window, what it sent and its schedule lag, which only it can tell (a
// client that fell behind is late by its own clock).
type ClientFigures struct {
	Index int `json:"index"`
	// Rate and Seed are the client's own arrival rate and seed.
	Rate             Rate      `json:"request_rate"`
	Seed             int64     `json:"seed"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at"`
	EndReason        string    `json:"end_reason"`
	Duration         float64   `json:"duration"`
	Completed        int       `json:"completed"`
	Failed           int       `json:"failed"`
	QueriesCompleted int       `json:"queries_completed"`
	AchievedRate     float64   `json:"achieved_rate"`
	LateArrivals     int       `json:"late_arrivals"`
	// ScheduleLag is the client's schedule lag (sent − scheduled).
	ScheduleLag KeyedStats `json:"schedule_lag"`
}

// KeyedStats is a Stats written as its own JSON object, keyed as a phase
// result keys a metric's statistics without the metric's name: count,
// mean_ms, median_ms, …, p99.9_ms.
type KeyedStats Stats

// MarshalJSON writes the statistics in vLLM's order.
func (k KeyedStats) MarshalJSON() ([]byte, error) {
	s := Stats(k)
	b := []byte(`{"count":` + strconv.FormatInt(s.Count, 10))
	for _, f := range s.statKeys() {
		v, err := json.Marshal(finite(*f.v))
		if err != nil {
			return nil, err
		}
		b = append(b, `,"`+f.prefix+`_ms":`...)
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (k *KeyedStats) UnmarshalJSON(data []byte) error {
	var all map[string]float64
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	var s Stats
	s.Count = int64(all["count"])
	for _, f := range s.statKeys() {
		*f.v = all[f.prefix+"_ms"]
	}
	*k = KeyedStats(s)
	return nil
}
