package engine

import (
	"context"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// Metric indices, in the order of Metrics.
const (
	mTTFT = iota
	mE2EL
	mITL
	mTPOT
	mQuery
	mResp
	mLag
	nMetrics
)

// collector is the one goroutine that owns the histograms. It derives every
// metric from the request results, finishes queries, streams
// requests.jsonl and the interval log, and reports progress. It keeps
// nothing per request: memory does not grow with the phase.
type collector struct {
	ph Phase
	o  *Options
	d  *dispatcher

	hist [nMetrics]*hdr.Histogram // whole measured phase
	iv   [nMetrics]*hdr.Histogram // current hlog interval (nil without Hlog)

	started   bool
	origin    time.Duration
	startWall time.Time
	warm      []*Result // warmup results waiting for the origin (requests log)
	log       *reqLog
	hlog      *schema.HlogWriter
	lastTick  time.Duration

	rangeErrs [nMetrics]int64
	moments   [nMetrics]schema.Moments // exact mean, std, min and max

	completed, failed       int
	queriesOK, queriesBad   int
	inTok, outTok           int64
	goodReq, goodQuery      int
	errs                    map[string]schema.ErrorCount
	lastEnd                 time.Duration
	late                    int
	maxLag                  time.Duration
	noUsage                 int
	cycles                  int
	warmRequests, warmFails int
	warmSample              string

	scored, missYes, missNo int64
	topN                    int
	ndcgSum, mrrSum         float64
	labelled                int

	sat *satWatch // nil without a SaturationStop
}

func newCollector(ctx context.Context, ph Phase, o *Options, d *dispatcher) *collector {
	c := &collector{ph: ph, o: o, d: d, errs: map[string]schema.ErrorCount{}, sat: newSatWatch(ctx, ph)}
	for m := range c.hist {
		c.hist[m] = schema.NewHist()
		if o.Hlog != nil {
			c.iv[m] = schema.NewHist()
		}
	}
	if o.RequestsLog != nil {
		c.log = newReqLog(o.RequestsLog, o.Simulated)
	}
	return c
}

// run consumes results until the channel closes. A result with no query is
// the marker of the measured part's start (sent after every warmup result).
func (c *collector) run(results <-chan *Result) {
	t := time.NewTicker(c.o.interval())
	defer t.Stop()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				c.tick()
				return
			}
			if r.q == nil {
				c.start()
				continue
			}
			c.add(r)
		case <-t.C:
			c.tick()
		}
	}
}

// start begins the measured part: the origin is known from here on.
func (c *collector) start() {
	c.started, c.origin, c.startWall, c.lastTick = true, c.d.origin, c.d.startWall, c.d.origin
	if c.o.Hlog != nil {
		c.hlog = schema.NewHlogWriter(c.o.Hlog, c.startWall, c.o.Simulated, c.ph.Name)
	}
	for _, r := range c.warm {
		c.log.write(r, c.origin)
		putResult(r)
	}
	c.warm = nil
}

// tick closes an hlog interval, feeds the saturation detector and
// reports progress.
func (c *collector) tick() {
	now := c.d.now()
	c.watchSaturation(now, true)
	if c.started && c.hlog != nil {
		c.hlog.Interval(c.iv[:], schema.Metrics, c.lastTick-c.origin, now-c.origin)
		c.lastTick = now
	}
	if c.o.Progress != nil {
		c.o.Progress(c.progress(now))
	}
}

func (c *collector) progress(now time.Duration) Progress {
	p := Progress{
		Phase:        c.ph.Name,
		Warmup:       !c.started,
		QueriesDone:  c.queriesOK + c.queriesBad,
		QueriesTotal: c.ph.Queries,
		Duration:     c.ph.Duration,
		RequestsDone: c.completed + c.failed,
		Errors:       c.failed,
		InFlight:     int(c.d.inFlight.Load()),
		TargetRate:   schema.Rate(math.Float64frombits(c.d.rateBits.Load())),
		TTFTP50:      time.Duration(c.hist[mTTFT].ValueAtPercentile(50)) * time.Microsecond,
		TTFTP99:      time.Duration(c.hist[mTTFT].ValueAtPercentile(99)) * time.Microsecond,
		Simulated:    c.o.Simulated,
	}
	if c.started {
		p.Elapsed = now - c.origin
		if p.Elapsed > 0 {
			p.AchievedRate = float64(c.d.dispatched.Load()) / p.Elapsed.Seconds()
		}
	}
	return p
}

// record adds d to metric m, rounded to the microsecond. Values the
// histogram cannot hold are counted, never silently dropped.
func (c *collector) record(m int, d time.Duration) {
	v := int64((d + time.Microsecond/2) / time.Microsecond)
	if v < 0 || c.hist[m].RecordValue(v) != nil {
		c.rangeErrs[m]++
		return
	}
	c.moments[m].Add(v)
	if c.iv[m] != nil {
		_ = c.iv[m].RecordValue(v) // same geometry: cannot fail where hist did not
	}
}

// add takes one request result.
func (c *collector) add(r *Result) {
	if c.o.onResult != nil {
		c.o.onResult(r)
	}
	q := r.q
	if r.Warmup {
		c.warmRequests++
		if r.Failed() {
			c.warmFails++
			if c.warmSample == "" {
				c.warmSample = r.Kind + ": " + r.Err
			}
		}
		q.left--
		if c.log != nil && !c.started {
			c.warm = append(c.warm, r)
			return
		}
		if c.log != nil {
			c.log.write(r, c.origin)
		}
		putResult(r)
		return
	}
	if c.log != nil {
		c.log.write(r, c.origin)
	}
	if c.cut(r) {
		putResult(r)
		return
	}
	if !r.NotSent {
		lag := r.Sent - r.Scheduled
		c.record(mLag, lag)
		q.maxLag = max(q.maxLag, lag)
		if q.firstSent < 0 || r.Sent < q.firstSent {
			q.firstSent = r.Sent
		}
		c.lastEnd = max(c.lastEnd, r.End)
	}
	q.end = max(q.end, r.End)
	if r.Failed() {
		c.failed++
		q.failed = true
		e := c.errs[r.Kind]
		e.Count++
		if e.Sample == "" {
			e.Sample = r.Err
		}
		c.errs[r.Kind] = e
	} else {
		c.success(r, q)
	}
	q.left--
	if q.left == 0 {
		c.finishQuery(q)
	}
	putResult(r)
}

// success records the metrics of a successful request.
func (c *collector) success(r *Result, q *queryState) {
	c.completed++
	ttft, e2e := r.TTFT(), r.E2E()
	c.record(mTTFT, ttft)
	c.record(mE2EL, e2e)
	c.record(mResp, r.End-r.Scheduled)
	for _, g := range r.ITL {
		c.record(mITL, g)
	}
	out := r.OutputTokens
	if !r.Usage {
		c.noUsage++
		out = int64(r.Chunks)
	}
	if per := out / int64(max(r.Prompts, 1)); per > 1 {
		c.record(mTPOT, (e2e-ttft)/time.Duration(per-1))
	}
	c.inTok += r.PromptTokens
	c.outTok += out
	if s := c.ph.SLO; s.RequestLevel() {
		if within(ttft, s.TTFTMs) && within(e2e, s.E2ELMs) {
			c.goodReq++
		} else {
			q.bad = true
		}
	}
	if c.o.Scorer != nil && q.item.Documents > 0 {
		if q.scores == nil {
			q.scores = make([]float64, q.item.Documents)
			for i := range q.scores {
				q.scores[i] = math.NaN()
			}
		}
		off := q.item.Requests[r.Request].Offset
		for i, p := range r.Scores {
			if d := off + i; d >= 0 && d < len(q.scores) {
				q.scores[d] = p
			}
		}
		q.missingYes += r.MissingYes
		q.missingNo += r.MissingNo
	}
}

// within reports whether d is within an SLO of ms milliseconds (0: none).
func within(d time.Duration, ms float64) bool {
	return ms == 0 || float64(d)/1e6 <= ms
}

// finishQuery accounts for a query whose requests have all finished.
func (c *collector) finishQuery(q *queryState) {
	c.cycles = max(c.cycles, q.item.Cycle)
	if q.maxLag > c.o.lateThreshold() {
		c.late++
	}
	c.maxLag = max(c.maxLag, q.maxLag)
	// All arrivals of an inf phase are due at once; its query latency runs
	// from the first request's send, when the cap admitted the query.
	start := q.scheduled
	if c.ph.Arrival == schema.ArrivalInf && q.firstSent >= 0 {
		start = q.firstSent
	}
	lat := q.end - start
	out := QueryOutcome{Item: &q.item, Scheduled: q.scheduled - c.origin, Latency: lat, Failed: q.failed || q.cut,
		Scores: q.scores, MissingYes: q.missingYes, MissingNo: q.missingNo}
	switch {
	case q.cut && !q.failed:
		c.sat.queriesCut++
		if c.o.OnQuery != nil {
			c.o.OnQuery(out)
		}
		return
	case c.sat != nil:
		c.sat.det.finished(q.scheduled-c.origin, lat, q.failed)
		c.watchSaturation(c.d.now(), false)
	}
	if q.failed {
		c.queriesBad++
	} else {
		c.queriesOK++
		c.record(mQuery, lat)
		if c.ph.SLO.Any() && !q.bad && within(lat, c.ph.SLO.QueryLatencyMs) {
			c.goodQuery++
		}
		if c.o.Scorer != nil && q.item.Documents > 0 {
			c.quality(q, &out)
		}
	}
	if c.o.OnQuery != nil {
		c.o.OnQuery(out)
	}
}

// quality adds a completed scored query to the phase's quality figures.
func (c *collector) quality(q *queryState, out *QueryOutcome) {
	if c.topN == 0 {
		c.topN = q.item.TopN
	}
	for _, p := range q.scores {
		if !math.IsNaN(p) {
			c.scored++
		}
	}
	c.missYes += int64(q.missingYes)
	c.missNo += int64(q.missingNo)
	ndcg, mrr, ok := workload.Quality(q.scores, q.item.Relevant, q.item.TopN)
	if !ok {
		return // no relevant document: not averaged
	}
	out.NDCG, out.MRR, out.Labelled = ndcg, mrr, true
	c.ndcgSum += out.NDCG
	c.mrrSum += out.MRR
	c.labelled++
}
