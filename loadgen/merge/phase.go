package merge

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"loadgen/loadgen/schema"
)

// Share is one client's share of a phase: its result and the intervals of
// its .hlog (tagged, with their absolute times).
type Share struct {
	Result    *schema.PhaseResult
	Intervals []*hdr.Histogram
}

// Phase is a phase merged from its clients' shares.
type Phase struct {
	Result *schema.PhaseResult
	// Intervals are every share's intervals, by start time, to be written
	// as the merged .hlog.
	Intervals []*hdr.Histogram
}

// Shares merges a phase's client shares: all of them, or with partial a
// subset (the result then says which are missing). The shares must be of
// one phase (same config, phase, arrival, model, SLO, clients) with
// distinct indexes; anything else is ErrMismatch.
func Shares(shares []Share, partial bool) (*Phase, error) {
	if len(shares) == 0 {
		return nil, mismatch("no client shares to merge")
	}
	shares = slices.Clone(shares)
	for _, s := range shares {
		if s.Result == nil || s.Result.Client == nil {
			return nil, mismatch("a phase result that is not a client's share cannot be merged with others")
		}
	}
	sort.Slice(shares, func(i, j int) bool { return shares[i].Result.Client.Index < shares[j].Result.Client.Index })
	first := shares[0].Result
	n := first.Client.Count
	var warns []string
	for i, s := range shares {
		r := s.Result
		if err := sameShare(first, r); err != nil {
			return nil, err
		}
		if i > 0 && r.Client.Index == shares[i-1].Result.Client.Index {
			return nil, mismatch("config %s phase %s: client %s is given twice", r.Config, r.Phase, r.Client.Part)
		}
	}
	if len(shares) < n {
		var missing []int
		for i, k := 0, 0; i < n; i++ {
			if k < len(shares) && shares[k].Result.Client.Index == i {
				k++
				continue
			}
			missing = append(missing, i)
		}
		if !partial {
			return nil, mismatch("config %s phase %s: %d of %d client shares given; missing clients %v", first.Config, first.Phase, len(shares), n, missing)
		}
		warns = append(warns, fmt.Sprintf("merged from %d of %d clients (missing %v): the phase ran at %d/%d of its rate", len(shares), n, missing, len(shares), n))
	}
	out := mergeResults(shares)
	out.Warnings = append(warns, out.Warnings...)
	lat, err := mergeLatency(shares)
	if err != nil {
		return nil, fmt.Errorf("config %s phase %s: %w", first.Config, first.Phase, err)
	}
	out.Latency = lat
	var ivs []*hdr.Histogram
	for _, s := range shares {
		ivs = append(ivs, s.Intervals...)
	}
	sort.SliceStable(ivs, func(i, j int) bool { return ivs[i].StartTimeMs() < ivs[j].StartTimeMs() })
	return &Phase{Result: out, Intervals: ivs}, nil
}

// sameShare refuses a share that is not of the same phase as first.
func sameShare(first, r *schema.PhaseResult) error {
	type key struct {
		config, phase, model, arrival string
		burstiness                    float64
		sim                           bool
		count                         int
		rate                          schema.Rate
		seed                          int64
		slo                           schema.SLO
	}
	k := func(r *schema.PhaseResult) key {
		var slo schema.SLO
		if r.SLO != nil {
			slo = *r.SLO
		}
		return key{r.Config, r.Phase, r.ModelID, r.Arrival, r.Burstiness, r.Simulated, r.Client.Count, r.Client.Rate, r.Client.Seed, slo}
	}
	if a, b := k(first), k(r); a != b {
		return mismatch("config %s phase %s: client %s is not a share of the same phase as client %s (%+v vs %+v)",
			first.Config, first.Phase, r.Client.Part, first.Client.Part, b, a)
	}
	return nil
}

// mergeResults sums and combines everything but the latency statistics.
func mergeResults(shares []Share) *schema.PhaseResult {
	first := shares[0].Result
	share := first.Client
	out := &schema.PhaseResult{
		SchemaVersion:   schema.PhaseSchemaVersion,
		Simulated:       first.Simulated,
		Config:          first.Config,
		Phase:           first.Phase,
		ModelID:         first.ModelID,
		Arrival:         first.Arrival,
		RequestRate:     share.Rate,
		Burstiness:      first.Burstiness,
		Ramp:            share.Ramp,
		Seed:            share.Seed,
		LateThresholdMs: first.LateThresholdMs,
		SLO:             first.SLO,
		Errors:          map[string]schema.ErrorCount{},
	}
	if share.MaxConcurrency > 0 {
		mc := share.MaxConcurrency
		out.MaxConcurrency = &mc
	}
	var windows [][2]time.Time
	var goodReq, goodQuery float64
	var anyGoodReq, anyGoodQuery bool
	var ndcg, mrr float64
	for i, s := range shares {
		r := s.Result
		end := r.StartedAt.Add(time.Duration(r.Duration * float64(time.Second)))
		windows = append(windows, [2]time.Time{r.StartedAt, end})
		if i == 0 || r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.EndedAt.After(out.EndedAt) {
			out.EndedAt = r.EndedAt
		}
		out.EndReason = worseEnd(out.EndReason, r.EndReason)
		out.Completed += r.Completed
		out.Failed += r.Failed
		out.TotalInputTokens += r.TotalInputTokens
		out.TotalOutputTokens += r.TotalOutputTokens
		out.QueriesCompleted += r.QueriesCompleted
		out.QueriesFailed += r.QueriesFailed
		out.QueriesPlanned += r.QueriesPlanned
		out.AchievedRate += r.AchievedRate
		out.LateArrivals += r.LateArrivals
		out.WarmupQueries += r.WarmupQueries
		out.DatasetCycles = max(out.DatasetCycles, r.DatasetCycles)
		if out.PromptMethod == "" {
			out.PromptMethod = r.PromptMethod
		}
		for kind, e := range r.Errors {
			m := out.Errors[kind]
			m.Count += e.Count
			if m.Sample == "" {
				m.Sample = e.Sample
			}
			out.Errors[kind] = m
		}
		// Goodputs are rates over each client's own duration: their counts
		// are whole numbers.
		if r.RequestGoodput != nil {
			anyGoodReq = true
			goodReq += math.Round(*r.RequestGoodput * r.Duration)
		}
		if r.QueryGoodput != nil {
			anyGoodQuery = true
			goodQuery += math.Round(*r.QueryGoodput * r.Duration)
		}
		if q := r.Quality; q != nil {
			if out.Quality == nil {
				out.Quality = &schema.Quality{TopN: q.TopN}
			}
			out.Quality.ScoredDocuments += q.ScoredDocuments
			out.Quality.MissingYes += q.MissingYes
			out.Quality.MissingNo += q.MissingNo
			out.Quality.LabelledQueries += q.LabelledQueries
			if q.NDCG != nil && q.MRR != nil {
				ndcg += *q.NDCG * float64(q.LabelledQueries)
				mrr += *q.MRR * float64(q.LabelledQueries)
			}
		}
		for _, w := range r.Warnings {
			out.Warnings = append(out.Warnings, fmt.Sprintf("client %s: %s", r.Client.Part, w))
		}
		out.Clients = append(out.Clients, schema.ClientFigures{
			Index: r.Client.Index, Rate: r.RequestRate, Seed: r.Seed,
			StartedAt: r.StartedAt, EndedAt: r.EndedAt, EndReason: r.EndReason, Duration: r.Duration,
			Completed: r.Completed, Failed: r.Failed, QueriesCompleted: r.QueriesCompleted,
			AchievedRate: r.AchievedRate, LateArrivals: r.LateArrivals,
			ScheduleLag: schema.KeyedStats(r.Latency[schema.MetricScheduleLag]),
		})
	}
	if q := out.Quality; q != nil && q.LabelledQueries > 0 {
		n, m := ndcg/float64(q.LabelledQueries), mrr/float64(q.LabelledQueries)
		q.NDCG, q.MRR = &n, &m
	}
	out.Duration = unionSeconds(windows)
	if d := out.Duration; d > 0 {
		out.RequestThroughput = float64(out.Completed) / d
		out.OutputThroughput = float64(out.TotalOutputTokens) / d
		out.TotalTokenThroughput = float64(out.TotalInputTokens+out.TotalOutputTokens) / d
		out.QueryThroughput = float64(out.QueriesCompleted) / d
	}
	if anyGoodReq {
		out.RequestGoodput = perSecond(goodReq, out.Duration)
	}
	if anyGoodQuery {
		out.QueryGoodput = perSecond(goodQuery, out.Duration)
	}
	out.ServerMetrics, out.Warnings = serverMetrics(shares, out.Warnings)
	if spread := overlap(windows); spread < minOverlap && len(shares) > 1 {
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"the clients ran together for only %.0f%% of the merged window: the full rate held only while they overlapped (each client's window is under clients)", 100*spread))
	}
	return out
}

// minOverlap is the share of the merged window all clients must run
// together before the merge says that the full rate did not hold.
const minOverlap = 0.9

// serverMetrics keeps the server metrics of the client with the longest
// window: every client scraped the whole server, so their deltas overlap
// and cannot be added.
func serverMetrics(shares []Share, warns []string) (*schema.ServerMetrics, []string) {
	best := -1
	for i, s := range shares {
		if s.Result.ServerMetrics != nil && (best < 0 || s.Result.Duration > shares[best].Result.Duration) {
			best = i
		}
	}
	if best < 0 {
		return nil, warns
	}
	r := shares[best].Result
	return r.ServerMetrics, append(warns, fmt.Sprintf("server_metrics are client %s's scrapes of the server over its own window (each client saw every client's requests)", r.Client.Part))
}

// mergeLatency adds the shares' histograms and combines their moments,
// metric by metric.
func mergeLatency(shares []Share) (map[string]schema.Stats, error) {
	byTag := map[string][]*hdr.Histogram{}
	for _, s := range shares {
		for _, h := range s.Intervals {
			byTag[h.Tag()] = append(byTag[h.Tag()], h)
		}
	}
	out := make(map[string]schema.Stats, len(schema.Metrics))
	for _, m := range schema.Metrics {
		var mom schema.Moments
		for _, s := range shares {
			mom.Merge(schema.MomentsOf(s.Result.Latency[m]))
		}
		h, err := schema.MergeHists(byTag[m])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		if h.TotalCount() != mom.N {
			return nil, mismatch("%s: the clients' .hlog files hold %d values, their results %d: a .hlog is missing or damaged", m, h.TotalCount(), mom.N)
		}
		out[m] = schema.StatsOf(h, mom)
	}
	return out, nil
}

// worseEnd is the end reason that says more about what went wrong.
func worseEnd(a, b string) string {
	rank := func(r string) int {
		return slices.Index([]string{"", schema.EndCompleted, schema.EndDuration, schema.EndInterrupted, schema.EndServerExited, schema.EndError}, r)
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// unionSeconds is the length of the union of the windows, in seconds.
func unionSeconds(ws [][2]time.Time) float64 {
	ws = slices.Clone(ws)
	sort.Slice(ws, func(i, j int) bool { return ws[i][0].Before(ws[j][0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, w := range ws {
		if i == 0 || w[0].After(cur[1]) {
			if i > 0 {
				total += cur[1].Sub(cur[0])
			}
			cur = w
			continue
		}
		if w[1].After(cur[1]) {
			cur[1] = w[1]
		}
	}
	if len(ws) > 0 {
		total += cur[1].Sub(cur[0])
	}
	return total.Seconds()
}

// overlap is the share of the union of the windows during which all of
// them ran.
func overlap(ws [][2]time.Time) float64 {
	u := unionSeconds(ws)
	if len(ws) == 0 || u <= 0 {
		return 1
	}
	lo, hi := ws[0][0], ws[0][1]
	for _, w := range ws[1:] {
		if w[0].After(lo) {
			lo = w[0]
		}
		if w[1].Before(hi) {
			hi = w[1]
		}
	}
	if !hi.After(lo) {
		return 0
	}
	return hi.Sub(lo).Seconds() / u
}

func perSecond(n, d float64) *float64 {
	var v float64
	if d > 0 {
		v = n / d
	}
	return &v
}
