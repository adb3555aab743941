package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"loadgen/loadgen/schema"
)

// Summary computes the report's numbers from the loaded results. It reads
// only the phase JSON files (the histograms are for the plots).
func (s *Sweep) Summary() *Summary {
	m := s.manifest()
	sum := &Summary{
		SchemaVersion:  SummarySchemaVersion,
		Simulated:      s.Simulated(),
		Profile:        m.Profile,
		ProfileHash:    m.ProfileHash,
		LoadgenVersion: m.LoadgenVersion,
		Host:           m.Host,
		Status:         m.Status,
		StartedAt:      m.StartedAt,
		EndedAt:        m.EndedAt,
		Ranking:        []RankRow{},
		Searches:       s.searchRows(),
		Phases:         []PhaseRow{},
		Startup:        []StartupRow{},
		Server:         []ServerRow{},
		Warnings:       []string{},
		Notes:          []string{},
	}
	if sum.Simulated {
		sum.Banner = simulatedBanner(m.Sim)
	}
	sum.Ranking, sum.RankingPhase = s.ranking()
	for i := range s.Configs {
		c := &s.Configs[i]
		sum.Startup = append(sum.Startup, startupRow(c))
		for _, p := range c.Phases {
			sum.Phases = append(sum.Phases, phaseRow(c, p))
			if p.Result != nil {
				sum.Server = append(sum.Server, serverRow(c, p))
			}
		}
	}
	sum.Warnings, sum.Notes = s.warnings()
	sum.Recommendation = recommend(s, sum)
	return sum
}

// simulatedBanner is the one line every output carries for simulated runs.
func simulatedBanner(sim *schema.SimInfo) string {
	b := "SIMULATED: measured against loadgen's built-in simulator of vllm-neuron, not on Inferentia2 hardware"
	if sim != nil && sim.SpeedFactor > 0 {
		b += fmt.Sprintf(" (simulator speed factor %g)", sim.SpeedFactor)
	}
	return b + ". Do not use these numbers to size a deployment."
}

// isSync, isInf and isOpenLoop classify a phase by its arrival process.
func isSync(r *schema.PhaseResult) bool { return r.Arrival == "sync" }
func isInf(r *schema.PhaseResult) bool  { return r.Arrival == "inf" || r.RequestRate.IsInf() }
func isOpenLoop(r *schema.PhaseResult) bool {
	return !isSync(r) && !isInf(r) && r.RequestRate > 0
}

// finished reports whether a phase's result counts as a measurement of
// the config: the manifest says the phase ended ok and the engine says it
// ran to its end (all its queries, or its duration). Rankings, the
// recommendation, capacity and the offline comparison use only such
// phases; an interrupted or crashed phase's numbers cover part of it.
func finished(p *Phase) bool {
	return p.Result != nil && p.Status == schema.StatusOK && ranToEnd(p.Result)
}

func ranToEnd(r *schema.PhaseResult) bool {
	return r.EndReason == schema.EndCompleted || r.EndReason == schema.EndDuration
}

// syncPhase is the config's first finished sync phase; when it has none,
// unfinished is its first sync phase with a result, if any.
func (c *ConfigResult) syncPhase() (p, unfinished *Phase) { return c.phaseOf(isSync) }

// infPhase is the config's first finished rate-inf phase; when it has
// none, unfinished is its first rate-inf phase with a result, if any.
func (c *ConfigResult) infPhase() (p, unfinished *Phase) { return c.phaseOf(isInf) }

func (c *ConfigResult) phaseOf(kind func(*schema.PhaseResult) bool) (p, unfinished *Phase) {
	for _, ph := range c.Phases {
		if ph.Result == nil || !kind(ph.Result) {
			continue
		}
		if finished(ph) {
			return ph, nil
		}
		if unfinished == nil {
			unfinished = ph
		}
	}
	return nil, unfinished
}

// howFar says why a phase is not finished and how far it got: its status,
// its end reason when that differs, and its completed queries, e.g.
// "interrupted: 3 of 12 queries completed".
func howFar(p *Phase) string {
	r := p.Result
	what := orUnknown(p.Status)
	switch {
	case ranToEnd(r) || r.EndReason == p.Status:
	case p.Status == schema.StatusOK:
		what = orUnknown(r.EndReason)
	default:
		what += " (" + orUnknown(r.EndReason) + ")"
	}
	n := fmt.Sprint(r.QueriesCompleted)
	if r.QueriesPlanned > 0 {
		n += fmt.Sprintf(" of %d", r.QueriesPlanned)
	}
	return fmt.Sprintf("%s: %s queries completed", what, n)
}

// notRanked says why a sync or rate-inf phase with a result is left out.
func notRanked(p *Phase) string {
	return fmt.Sprintf("phase %s not ranked (%s)", p.Name, howFar(p))
}

// passed reports whether the config finished without failure.
func (c *ConfigResult) passed() bool {
	return c.Status.Status == schema.StatusOK && c.FailureClass() == ""
}

// ranking builds section 1: configs with a sync result by query throughput,
// then the others with why they have no rank.
func (s *Sweep) ranking() ([]RankRow, string) {
	var ranked, unranked []RankRow
	phases := map[string]bool{}
	for i := range s.Configs {
		c := &s.Configs[i]
		row := RankRow{Config: c.Name, Status: c.Status.Status, FailureClass: c.FailureClass()}
		if !c.passed() {
			row.Reason = c.FailureReason()
		}
		p, unfinished := c.syncPhase()
		if p == nil || p.Result.QueriesCompleted == 0 || p.Result.QueryThroughput <= 0 {
			switch {
			case unfinished != nil: // its numbers cover part of the phase
				row.Reason = joinReasons(row.Reason, notRanked(unfinished))
			case row.Reason == "":
				row.Reason = noSyncReason(c, p)
			}
			unranked = append(unranked, row)
			continue
		}
		r := p.Result
		row.Phase = p.Name
		phases[p.Name] = true
		row.QueriesPerSec = f64(round(r.QueryThroughput, 6))
		q := r.Latency[schema.MetricQueryLatency]
		row.AvgS, row.P50S = f64(msToS(q.Mean)), f64(msToS(q.P50))
		row.P95S, row.P99S = f64(msToS(q.P95)), f64(msToS(q.P99))
		row.Queries = intp(r.QueriesCompleted)
		row.CapacityAtSLO = c.capacityAtSLO()
		ranked = append(ranked, row)
	}
	sort.SliceStable(ranked, func(i, j int) bool {
		return *ranked[i].QueriesPerSec > *ranked[j].QueriesPerSec
	})
	for i := range ranked {
		ranked[i].Rank = i + 1
		ranked[i].SharePct = f64(round(100**ranked[i].QueriesPerSec / *ranked[0].QueriesPerSec, 2))
	}
	name := ""
	if len(phases) == 1 {
		for n := range phases {
			name = n
		}
	}
	return append(ranked, unranked...), name
}

// joinReasons joins the non-empty reasons with "; ".
func joinReasons(reasons ...string) string {
	var out []string
	for _, r := range reasons {
		if r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}

// noSyncReason says why a config without a finished sync phase has no
// rank.
func noSyncReason(c *ConfigResult, p *Phase) string {
	if p != nil {
		return fmt.Sprintf("sync phase %s completed no queries", p.Name)
	}
	for _, ph := range c.Phases {
		if ph.Result == nil && ph.Status != schema.StatusOK {
			return fmt.Sprintf("phase %s is %s", ph.Name, orUnknown(ph.Status))
		}
	}
	return "no sync phase"
}

func phaseRow(c *ConfigResult, p *Phase) PhaseRow {
	row := PhaseRow{Config: c.Name, Phase: p.Name, Status: p.Status, Reason: p.Reason, Search: p.Search}
	r := p.Result
	if r == nil {
		return row
	}
	row.Arrival, row.MaxConcurrency = r.Arrival, r.MaxConcurrency
	if isSearch(r) && r.QueriesCompleted == 0 {
		// No trial passed: the search holds its answer, not a measurement.
		onlinePhaseCells(&row, p)
		return row
	}
	if !isSync(r) { // a closed loop has no target rate
		rate := r.RequestRate
		row.TargetRate = &rate
	}
	row.AchievedRate = f64(round(r.AchievedRate, 6))
	row.QueryThroughput = f64(round(r.QueryThroughput, 6))
	row.TTFTP50Ms, row.TTFTP99Ms = stat(r, schema.MetricTTFT, 50), stat(r, schema.MetricTTFT, 99)
	row.E2ELP50Ms, row.E2ELP99Ms = stat(r, schema.MetricE2EL, 50), stat(r, schema.MetricE2EL, 99)
	row.QueryLatencyP50Ms = stat(r, schema.MetricQueryLatency, 50)
	row.QueryLatencyP99Ms = stat(r, schema.MetricQueryLatency, 99)
	row.ScheduleLagP99Ms = stat(r, schema.MetricScheduleLag, 99)
	row.QueriesCompleted, row.QueriesFailed = intp(r.QueriesCompleted), intp(r.QueriesFailed)
	row.RequestsFailed = intp(r.Failed)
	if len(r.Errors) > 0 {
		row.Errors = map[string]int{}
		for k, e := range r.Errors {
			row.Errors[k] = e.Count
		}
	}
	if r.QueryGoodput != nil {
		row.QueryGoodput = f64(round(*r.QueryGoodput, 6))
	}
	row.LateArrivals = intp(r.LateArrivals)
	row.DurationS = f64(round(r.Duration, 6))
	row.EndReason = r.EndReason
	onlinePhaseCells(&row, p)
	return row
}

// finished reports whether the row's phase counts as a measurement: status
// ok and run to its end (see finished for phases).
func (r PhaseRow) finished() bool {
	return r.Status == schema.StatusOK && (r.EndReason == schema.EndCompleted || r.EndReason == schema.EndDuration)
}

// stat is percentile q (50 or 99) of a metric in ms, nil when the phase
// did not record the metric.
func stat(r *schema.PhaseResult, metric string, q int) *float64 {
	s, ok := r.Latency[metric]
	if !ok || s.Count == 0 {
		return nil
	}
	if q == 50 {
		return f64(round(s.P50, 3))
	}
	return f64(round(s.P99, 3))
}

func startupRow(c *ConfigResult) StartupRow {
	row := StartupRow{Config: c.Name, Status: c.Status.Status, FailureClass: c.FailureClass(), Reason: c.FailureReason()}
	st := c.Startup
	if st == nil {
		return row
	}
	row.Ready, row.CompiledArtifacts = st.Ready, st.CompiledArtifacts
	if st.Ready {
		row.ReadySeconds = f64(round(st.ReadySeconds, 3))
	}
	compiled, found := 0.0, false
	for _, ph := range st.Phases {
		if strings.Contains(strings.ToLower(ph.Name), "compil") {
			compiled, found = compiled+ph.Seconds, true
		}
	}
	if found {
		row.CompileSeconds = f64(round(compiled, 3))
	}
	for _, f := range st.Findings {
		if !f.Fatal && !f.Class.IsNote() {
			row.Findings = append(row.Findings, fmt.Sprintf("%s: %s", f.Class, f.Message))
		}
	}
	return row
}

func serverRow(c *ConfigResult, p *Phase) ServerRow {
	row := ServerRow{Config: c.Name, Phase: p.Name, PrefixCaching: c.Settings.Bool(KeyPrefixCaching),
		PrefixCacheReset: c.Status.PrefixCacheReset}
	sm := p.Result.ServerMetrics
	if sm == nil {
		return row
	}
	if sm.QueueTime != nil {
		row.QueueMeanMs, row.QueueP99Ms = f64(round(sm.QueueTime.MeanMs, 3)), f64(round(sm.QueueTime.P99Ms, 3))
	}
	row.PrefixCacheHitRate = roundp(sm.PrefixCacheHitRate, 4)
	row.PrefixCacheHits, row.PrefixCacheQueries = sm.PrefixCacheHits, sm.PrefixCacheQueries
	row.Preemptions = sm.Preemptions
	if sm.Waiting != nil {
		row.WaitingMax = f64(sm.Waiting.Max)
	}
	if sm.KVCache != nil {
		row.KVCacheUsageMax = f64(round(sm.KVCache.Max, 4))
	}
	return row
}

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }

func roundp(v *float64, digits int) *float64 {
	if v == nil {
		return nil
	}
	return f64(round(*v, digits))
}

// round rounds v to the given number of decimals, so that derived values
// (ms → s, shares) print the same in JSON, CSV and Markdown.
func round(v float64, digits int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// msToS converts milliseconds to seconds, to the microsecond.
func msToS(ms float64) float64 { return round(ms/1000, 6) }

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
