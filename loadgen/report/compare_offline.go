package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"loadgen/loadgen/schema"
)

// OfflineComparison joins the offline benchmark's results to a sweep: per
// config the offline numbers next to the online sync phase (the HTTP and
// serving overhead), the online capacity at rate inf and at the SLO, and
// whether the rankings agree (Kendall's τ_b).
type OfflineComparison struct {
	Simulated bool   `json:"simulated"`
	Banner    string `json:"banner,omitempty"`
	Profile   string `json:"profile"`
	Dir       string `json:"results_dir"`
	// Matches says how each offline result was joined.
	Matches []OfflineMatch `json:"matches"`
	// UnmatchedOnline lists online configs no offline result joined.
	UnmatchedOnline []string     `json:"unmatched_online"`
	Rows            []OfflineRow `json:"rows"`
	// Sync compares the offline ranking with the online sync ranking;
	// Capacity with the ranking by online capacity at rate inf; AtSLO
	// with the ranking by online capacity at the SLO (the online answer).
	Sync     RankAgreement `json:"ranking_sync"`
	Capacity RankAgreement `json:"ranking_capacity"`
	AtSLO    RankAgreement `json:"ranking_capacity_at_slo"`
	Notes    []string      `json:"notes"`
}

// QueryStats are per-query throughput and latency in seconds.
type QueryStats struct {
	QueriesPerSec float64 `json:"queries_per_sec"`
	AvgS          float64 `json:"avg_s"`
	P50S          float64 `json:"p50_s"`
	P95S          float64 `json:"p95_s"`
	P99S          float64 `json:"p99_s"`
}

// Delta is one statistic offline and online, with the online − offline
// difference absolute and relative to offline.
type Delta struct {
	Stat    string  `json:"stat"`
	Offline float64 `json:"offline"`
	Online  float64 `json:"online"`
	Abs     float64 `json:"abs"`
	Pct     float64 `json:"pct"`
}

// OfflineRow is one joined config.
type OfflineRow struct {
	Offline string     `json:"offline"`
	Online  string     `json:"online"`
	OffStat QueryStats `json:"offline_stats"`
	// SyncPhase and Sync are the online sync phase (nil without a
	// finished one); Overhead compares each statistic. SyncNote says why
	// an unfinished sync phase (interrupted, crashed) is left out.
	SyncPhase string      `json:"sync_phase,omitempty"`
	Sync      *QueryStats `json:"online_sync"`
	Overhead  []Delta     `json:"overhead"`
	SyncNote  string      `json:"sync_note,omitempty"`
	// CapacityPhase and Capacity are the online rate-inf phase's query
	// throughput (nil without a finished one); CapacityRatio is Capacity /
	// offline throughput. CapacityNote says why an unfinished rate-inf
	// phase is left out.
	CapacityPhase  string   `json:"capacity_phase,omitempty"`
	MaxConcurrency *int     `json:"max_concurrency,omitempty"`
	Capacity       *float64 `json:"online_capacity_qps"`
	CapacityRatio  *float64 `json:"capacity_over_offline"`
	CapacityNote   string   `json:"capacity_note,omitempty"`
	// SLOPhase and CapacityAtSLO are the online search phase's answer (nil
	// without a finished one) under SLO; AtSLORatio is it over the offline
	// throughput, and AtSLONote says why an unfinished search is left out.
	SLOPhase      string   `json:"slo_phase,omitempty"`
	SLO           string   `json:"slo,omitempty"`
	CapacityAtSLO *float64 `json:"online_capacity_at_slo"`
	AtSLORatio    *float64 `json:"capacity_at_slo_over_offline"`
	AtSLONote     string   `json:"capacity_at_slo_note,omitempty"`
}

// RankAgreement compares the offline ranking with an online one over the
// configs that have both numbers.
type RankAgreement struct {
	N int `json:"n"`
	// Tau is Kendall's τ_b, nil when undefined (n < 2, all tied).
	Tau *float64 `json:"kendall_tau_b"`
	// Agree is true when the two orders are the same (τ_b = 1).
	Agree bool `json:"agree"`
	// Discordant lists the pairs of configs the two rankings order
	// differently (offline names).
	Discordant [][2]string `json:"discordant"`
	Note       string      `json:"note"`
}

// CompareOffline joins off to s (see MatchOffline) and compares them. Only
// finished phases count: a sync or rate-inf phase that was interrupted or
// crashed is left out of the rows' numbers and of Kendall's τ, with a note.
func CompareOffline(off []OfflineResult, s *Sweep) *OfflineComparison {
	c := &OfflineComparison{
		Simulated: s.Simulated(), Profile: s.manifest().Profile, Dir: s.Dir,
		Matches: MatchOffline(off, s), UnmatchedOnline: []string{}, Rows: []OfflineRow{}, Notes: []string{},
	}
	if c.Simulated {
		c.Banner = simulatedBanner(s.manifest().Sim)
		c.Notes = append(c.Notes, "The online side is SIMULATED: this compares the simulator's latency model with the "+
			"offline measurements (a calibration check), not the real HTTP and serving overhead.")
	}
	joined := map[string]bool{}
	for i, m := range c.Matches {
		if m.Online == "" {
			continue
		}
		joined[m.Online] = true
		c.Rows = append(c.Rows, offlineRow(off[i], s.Config(m.Online)))
	}
	for i := range s.Configs {
		if !joined[s.Configs[i].Name] {
			c.UnmatchedOnline = append(c.UnmatchedOnline, s.Configs[i].Name)
		}
	}
	c.Sync = agreement(c.Rows, func(r OfflineRow) *float64 {
		if r.Sync == nil {
			return nil
		}
		return &r.Sync.QueriesPerSec
	})
	c.Capacity = agreement(c.Rows, func(r OfflineRow) *float64 { return r.Capacity })
	c.AtSLO = agreement(c.Rows, func(r OfflineRow) *float64 { return r.CapacityAtSLO })
	for _, o := range off {
		if o.RawTimes == nil {
			c.Notes = append(c.Notes, "Offline results without raw_times: offline percentiles are as the files give them.")
			break
		}
	}
	return c
}

func offlineRow(o OfflineResult, c *ConfigResult) OfflineRow {
	m := o.Metrics
	row := OfflineRow{Offline: o.Name, Online: c.Name,
		OffStat: QueryStats{m.ThroughputQueriesPerSec, m.AvgTimePerQuery, m.P50Time, m.P95Time, m.P99Time}, Overhead: []Delta{}}
	p, unfinished := c.syncPhase()
	if unfinished != nil {
		row.SyncNote = notRanked(unfinished)
	}
	if p != nil && p.Result.QueriesCompleted > 0 {
		r := p.Result
		q := r.Latency[schema.MetricQueryLatency]
		st := QueryStats{round(r.QueryThroughput, 6), msToS(q.Mean), msToS(q.P50), msToS(q.P95), msToS(q.P99)}
		row.SyncPhase, row.Sync = p.Name, &st
		for _, d := range []struct {
			name     string
			off, on  float64
			decimals int
		}{
			{"queries/s", row.OffStat.QueriesPerSec, st.QueriesPerSec, 6},
			{"avg (s)", row.OffStat.AvgS, st.AvgS, 6},
			{"p50 (s)", row.OffStat.P50S, st.P50S, 6},
			{"p95 (s)", row.OffStat.P95S, st.P95S, 6},
			{"p99 (s)", row.OffStat.P99S, st.P99S, 6},
		} {
			row.Overhead = append(row.Overhead, Delta{Stat: d.name, Offline: d.off, Online: d.on,
				Abs: round(d.on-d.off, d.decimals), Pct: round(relPct(d.on, d.off), 2)})
		}
	}
	p, unfinished = c.infPhase()
	if unfinished != nil {
		row.CapacityNote = notRanked(unfinished)
	}
	if p != nil && p.Result.QueriesCompleted > 0 {
		row.CapacityPhase, row.MaxConcurrency = p.Name, p.Result.MaxConcurrency
		row.Capacity = f64(round(p.Result.QueryThroughput, 6))
		row.CapacityRatio = f64(round(p.Result.QueryThroughput/m.ThroughputQueriesPerSec, 4))
	}
	p, unfinished = c.searchPhase()
	if unfinished != nil {
		row.AtSLONote = notRanked(unfinished)
	}
	if p != nil {
		rec := p.Result.Search
		row.SLOPhase, row.SLO = p.Name, rec.SLO.String()
		row.CapacityAtSLO = f64(round(rec.CapacityAtSLO, 6))
		row.AtSLORatio = f64(round(rec.CapacityAtSLO/m.ThroughputQueriesPerSec, 4))
	}
	return row
}

// relPct is (v − base) / base in percent, 0 when base is 0.
func relPct(v, base float64) float64 {
	if base == 0 {
		return 0
	}
	return 100 * (v - base) / base
}

// agreement compares the offline throughput ranking with the online value
// chosen by online, over the rows that have it.
func agreement(rows []OfflineRow, online func(OfflineRow) *float64) RankAgreement {
	var names []string
	var x, y []float64
	for _, r := range rows {
		if v := online(r); v != nil {
			names = append(names, r.Offline)
			x = append(x, r.OffStat.QueriesPerSec)
			y = append(y, *v)
		}
	}
	a := RankAgreement{N: len(x), Discordant: [][2]string{}}
	tau, err := KendallTauB(x, y)
	switch {
	case errors.Is(err, ErrTooFewPairs):
		a.Note = fmt.Sprintf("not enough joined configs to compare rankings (n=%d; Kendall's tau needs at least 2)", len(x))
		return a
	case err != nil:
		a.Note = err.Error()
		return a
	}
	a.Tau = f64(round(tau, 4))
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			if sign(x[j]-x[i])*sign(y[j]-y[i]) < 0 {
				a.Discordant = append(a.Discordant, [2]string{names[i], names[j]})
			}
		}
	}
	a.Agree = len(a.Discordant) == 0 && tau > 0.9999
	if a.Agree {
		a.Note = "the rankings agree"
	} else {
		parts := make([]string, len(a.Discordant))
		for i, d := range a.Discordant {
			parts[i] = d[0] + " vs " + d[1]
		}
		a.Note = "the rankings differ"
		if len(parts) > 0 {
			a.Note += "; ordered differently: " + strings.Join(parts, ", ")
		}
	}
	return a
}

// ranks gives rank 1 to the largest value; ties share the better rank and
// nil values get no rank (0).
func ranks(vals []*float64) []int {
	out := make([]int, len(vals))
	var idx []int
	for i, v := range vals {
		if v != nil {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return *vals[idx[a]] > *vals[idx[b]] })
	for k, i := range idx {
		out[i] = k + 1
		if k > 0 && *vals[idx[k-1]] == *vals[i] {
			out[i] = out[idx[k-1]]
		}
	}
	return out
}

// WriteJSON writes the comparison as indented JSON.
func (c *OfflineComparison) WriteJSON(w io.Writer) error {
	b, err := schema.Encode(c)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
