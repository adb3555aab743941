package engine

import (
	"fmt"
	"strings"
	"time"

	"loadgen/loadgen/schema"
)

// result builds the phase result once the collector has seen everything.
func (c *collector) result(end string, endWall time.Time) *schema.PhaseResult {
	ph, d := c.ph, c.d
	r := &schema.PhaseResult{
		SchemaVersion:     schema.PhaseSchemaVersion,
		Simulated:         c.o.Simulated,
		Config:            c.o.Config,
		Phase:             ph.Name,
		ModelID:           c.o.Model,
		Arrival:           ph.Arrival,
		RequestRate:       ph.targetRate(),
		Burstiness:        ph.burstiness(),
		Ramp:              ph.Ramp,
		Seed:              ph.Seed,
		StartedAt:         c.startWall,
		EndedAt:           endWall,
		EndReason:         end,
		Completed:         c.completed,
		Failed:            c.failed,
		TotalInputTokens:  c.inTok,
		TotalOutputTokens: c.outTok,
		QueriesCompleted:  c.queriesOK,
		QueriesFailed:     c.queriesBad,
		QueriesPlanned:    ph.Queries,
		LateArrivals:      c.late,
		LateThresholdMs:   float64(c.o.lateThreshold()) / 1e6,
		WarmupQueries:     ph.Warmup,
		DatasetCycles:     c.cycles,
		Errors:            c.errs,
		SLO:               ph.SLO,
		Latency:           make(map[string]schema.Stats, nMetrics),
	}
	if ph.MaxConcurrency > 0 {
		mc := ph.MaxConcurrency
		r.MaxConcurrency = &mc
	}
	if c.lastEnd > c.origin {
		r.Duration = (c.lastEnd - c.origin).Seconds()
	}
	if r.Duration > 0 {
		r.RequestThroughput = float64(c.completed) / r.Duration
		r.OutputThroughput = float64(c.outTok) / r.Duration
		r.TotalTokenThroughput = float64(c.inTok+c.outTok) / r.Duration
		r.QueryThroughput = float64(c.queriesOK) / r.Duration
	}
	// Request goodput needs a request-level SLO (as vLLM leaves it null
	// without one); query goodput needs any SLO.
	if ph.SLO.RequestLevel() {
		r.RequestGoodput = perSecond(c.goodReq, r.Duration)
	}
	if ph.SLO.Any() {
		r.QueryGoodput = perSecond(c.goodQuery, r.Duration)
	}
	if span := time.Duration(d.lastDispatch.Load()) - c.origin; span > 0 {
		r.AchievedRate = float64(d.dispatched.Load()) / span.Seconds()
	}
	for m, name := range schema.Metrics {
		r.Latency[name] = schema.StatsOf(c.hist[m], c.moments[m])
	}
	if c.o.Scorer != nil {
		q := &schema.Quality{ScoredDocuments: c.scored, MissingYes: c.missYes, MissingNo: c.missNo,
			TopN: c.topN, LabelledQueries: c.labelled}
		if c.labelled > 0 {
			ndcg, mrr := c.ndcgSum/float64(c.labelled), c.mrrSum/float64(c.labelled)
			q.NDCG, q.MRR = &ndcg, &mrr
		}
		r.Quality = q
	}
	if c.sat != nil && c.sat.fired != nil {
		ev := *c.sat.fired
		ev.QueriesCut, ev.RequestsCut = c.sat.queriesCut, c.sat.requests
		ev.NotSent = max(0, ev.Planned-int(d.dispatched.Load()))
		r.Saturation = &ev
	}
	r.Warnings = c.warnings()
	return r
}

// answerKinds are the error kinds of a 200 response that did not answer
// the request as asked.
var answerKinds = []string{KindMissingChoices, KindBadChoiceIndex, KindDuplicateChoice, KindMissingLogprobs, KindTooLarge}

// incomplete counts the measured requests that failed with an answerKinds
// kind, and lists those kinds with their counts.
func (c *collector) incomplete() (int, string) {
	n, kinds := 0, []string(nil)
	for _, k := range answerKinds {
		if e := c.errs[k]; e.Count > 0 {
			n += e.Count
			kinds = append(kinds, fmt.Sprintf("%s %d", k, e.Count))
		}
	}
	return n, strings.Join(kinds, ", ")
}

// perSecond returns n/duration (0 for an empty phase).
func perSecond(n int, duration float64) *float64 {
	var v float64
	if duration > 0 {
		v = float64(n) / duration
	}
	return &v
}

// warnings says what the numbers alone would not.
func (c *collector) warnings() []string {
	var w []string
	if c.late > 0 && c.ph.Arrival != schema.ArrivalInf {
		queries := c.queriesOK + c.queriesBad
		why := "the client or host could not keep up with the schedule"
		if n := c.d.capWaits.Load(); n > 0 {
			why = fmt.Sprintf("the concurrency cap of %d held %d requests back", c.ph.MaxConcurrency, n)
		}
		w = append(w, fmt.Sprintf("dispatcher fell behind: %d of %d arrivals were sent more than %v late "+
			"(max lag %.1f ms, p99 schedule lag %.2f ms); %s; the lag is in schedule_lag and response_time",
			c.late, queries, c.o.lateThreshold(), float64(c.maxLag)/1e6,
			float64(c.hist[mLag].ValueAtPercentile(99))/1e3, why))
	}
	for m, n := range c.rangeErrs {
		if n > 0 {
			w = append(w, fmt.Sprintf("%d %s values outside the histogram range (0 to %v) were not recorded", n, schema.Metrics[m], schema.HistSpan))
		}
	}
	if n, kinds := c.incomplete(); n > 0 {
		w = append(w, fmt.Sprintf("%d requests were answered incompletely or out of shape (%s): they failed, and "+
			"their queries with them, so no document of theirs is scored or counted as completed", n, kinds))
	}
	if c.noUsage > 0 {
		w = append(w, fmt.Sprintf("%d requests ended without a usage chunk; their output tokens were counted "+
			"as choice chunks and their prompt tokens as 0 (send stream_options.include_usage)", c.noUsage))
	}
	if c.warmFails > 0 {
		w = append(w, fmt.Sprintf("warmup: %d of %d requests failed (first: %s)", c.warmFails, c.warmRequests, c.warmSample))
	}
	if c.d.sourceShort.Load() {
		w = append(w, fmt.Sprintf("the workload ended after %d of %d measured queries",
			c.queriesOK+c.queriesBad, c.ph.Queries))
	}
	if c.log != nil {
		if err := c.log.flush(); err != nil {
			w = append(w, err.Error())
		}
	}
	if c.hlog != nil {
		if err := c.hlog.Flush(); err != nil {
			w = append(w, err.Error())
		}
	}
	return w
}
