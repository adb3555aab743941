package schema

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The records of loadgen's online-capacity questions: a relative rate's
// basis, the evidence on which a saturated phase was stopped, and a search
// for the capacity at an SLO with its trials.

// RateBasis is the capacity a relative rate is a share of: the query
// throughput an earlier rate-inf phase of the same configuration measured.
type RateBasis struct {
	// Phase is the rate-inf phase that measured it.
	Phase string `json:"phase"`
	// Capacity is its query_throughput, in queries/s.
	Capacity float64 `json:"capacity"`
}

// Saturation reasons (Saturation.Reason).
const (
	// SaturatedSLOMiss: more queries than the SLO allows are certain to
	// miss it (finished over the threshold, failed, or still running and
	// already older than it), so the phase cannot pass.
	SaturatedSLOMiss = "slo_miss_certain"
	// SaturatedGrowth: the queue (arrivals due but unsent plus queries in
	// flight) grew steadily while latency was past a multiple of the SLO.
	SaturatedGrowth = "queue_growth"
)

// Saturation is the evidence on which an open-loop phase was stopped as
// past capacity. Times are seconds since the measured part started.
type Saturation struct {
	// Reason is SaturatedSLOMiss or SaturatedGrowth; Evidence says it in
	// one sentence with the numbers.
	Reason   string `json:"reason"`
	Evidence string `json:"evidence"`
	// At is when the detector fired.
	At float64 `json:"at_s"`
	// Planned is the number of measured queries the phase was to send;
	// Due the arrivals due by At, Backlog those due but not yet sent and
	// InFlight the queries sent and not yet finished.
	Planned  int `json:"planned"`
	Due      int `json:"due"`
	Backlog  int `json:"backlog"`
	InFlight int `json:"in_flight"`
	// Misses counts queries certain to miss the SLO when it fired, and
	// AllowedMisses how many may miss it with the SLO still held.
	Misses        int `json:"misses"`
	AllowedMisses int `json:"allowed_misses"`
	// QueueSlope is the queue's growth (queries/s) over Window seconds,
	// with the half-width of its 95% confidence interval.
	QueueSlope   float64 `json:"queue_slope"`
	QueueSlopeCI float64 `json:"queue_slope_ci"`
	Window       float64 `json:"window_s"`
	// RecentLatency is the median query latency of the last queries
	// finished (seconds), and LatencyFactor the multiple of the SLO it had
	// to pass for the growth rule.
	RecentLatency float64 `json:"recent_latency_s"`
	LatencyFactor float64 `json:"latency_factor,omitempty"`
	// QueriesCut and RequestsCut count what the stop cut off: queries in
	// flight whose requests were aborted, and those requests. They are not
	// failures: the server did not fail them, the stop did. NotSent counts
	// the scheduled arrivals that were never sent.
	QueriesCut  int `json:"queries_cut"`
	RequestsCut int `json:"requests_cut"`
	NotSent     int `json:"not_sent"`
}

// SearchSLO is the service-level objective a capacity search holds a
// trial to: the Percentile of Metric at most MaxMs, and at most MaxFailed
// (a share, 0.01 for 1%) of its queries failed.
type SearchSLO struct {
	Metric     string  `json:"metric"`
	Percentile float64 `json:"percentile"`
	MaxMs      float64 `json:"max_ms"`
	MaxFailed  float64 `json:"max_failed"`
}

// String renders the SLO as "p99 query_latency ≤ 2s, failed ≤ 1%".
func (s SearchSLO) String() string {
	return fmt.Sprintf("p%g %s ≤ %s, failed ≤ %g%%", s.Percentile, s.Metric, FormatMs(s.MaxMs), 100*s.MaxFailed)
}

// FormatMs renders milliseconds as seconds when they are whole tenths of
// one ("2s", "1.5s") and as milliseconds otherwise ("750ms").
func FormatMs(ms float64) string {
	if ms >= 100 && ms == float64(int64(ms/100))*100 {
		return fmt.Sprintf("%gs", ms/1000)
	}
	return fmt.Sprintf("%gms", ms)
}

// SearchResult is the record of a search for the highest arrival rate at
// which an SLO holds: its bounds, every trial, and the answer with the
// two trials that bracket it.
type SearchResult struct {
	SLO SearchSLO `json:"slo"`
	// Tolerance is the relative width (0.05 for 5%) at which the bracket
	// counts as closed: (fail − pass)/fail ≤ Tolerance.
	Tolerance float64 `json:"tolerance"`
	// Lower and Upper are the bounds searched, in queries/s; UpperPhase
	// names the rate-inf phase (or the search's own probe trial) whose
	// capacity is Upper, "" when the profile gave it.
	Lower      float64 `json:"lower"`
	Upper      float64 `json:"upper"`
	UpperPhase string  `json:"upper_phase,omitempty"`
	// Unloaded is the metric's percentile at no load (the sync phase
	// UnloadedPhase, in ms), which seeds the first guess; 0 when unknown.
	Unloaded      float64 `json:"unloaded_ms,omitempty"`
	UnloadedPhase string  `json:"unloaded_phase,omitempty"`
	// CapacityAtSLO is the highest rate of a passing trial (0 when none
	// passed). Pass and Fail are the 1-based numbers of the trials that
	// bracket it (0: none: no trial passed, or none failed above it).
	CapacityAtSLO float64 `json:"capacity_at_slo"`
	Pass          int     `json:"pass_trial,omitempty"`
	Fail          int     `json:"fail_trial,omitempty"`
	// Converged is true when the bracket closed within Tolerance, or the
	// SLO held at Upper, or could not hold at any rate; Reason says how
	// the search ended either way.
	Converged bool   `json:"converged"`
	Reason    string `json:"reason"`
	// Trials lists every trial in the order run.
	Trials []Trial `json:"trials"`
	// Seconds is the search's wall time, trials and the pauses between
	// them included.
	Seconds float64 `json:"seconds"`
}

// Trial is one constant-rate run of a search: a sub-phase with its own
// result files, judged against the SLO.
type Trial struct {
	// N numbers the trial from 1; Phase is its name
	// (<search phase>.trial-NN) and File its result, relative to the
	// results directory (the .hlog lies beside it).
	N     int    `json:"n"`
	Phase string `json:"phase"`
	File  string `json:"file"`
	// Rate is the target arrival rate (queries/s); Probe marks the
	// rate-inf trial that measured the upper bound.
	Rate  float64 `json:"rate"`
	Probe bool    `json:"probe,omitempty"`
	// Pass says whether the SLO held; Why says why not. Discarded marks a
	// trial set aside because it measured the client (it fell behind its
	// schedule by more than the search resolves): its rate ran again.
	Pass      bool   `json:"pass"`
	Why       string `json:"why,omitempty"`
	Discarded bool   `json:"discarded,omitempty"`
	// Value is the SLO's percentile of its metric (ms) over the queries
	// that finished; Censored marks a value from a trial stopped early,
	// which understates the trial's latency.
	Value    float64 `json:"value_ms"`
	Censored bool    `json:"censored,omitempty"`
	// FailedShare is failed queries over queries finished or failed.
	FailedShare float64 `json:"failed_share"`
	// Queries counts queries that finished (completed or failed).
	Queries   int     `json:"queries"`
	EndReason string  `json:"end_reason"`
	Duration  float64 `json:"duration"`
	// Throughput is the trial's query_throughput (queries/s).
	Throughput float64 `json:"query_throughput"`
}

// TrialInfix joins a search phase's name and a trial's number in the
// trial's name; no phase of a profile may hold it.
const TrialInfix = ".trial-"

// TrialName is the name of a search phase's trial n: <phase>.trial-NN.
func TrialName(phase string, n int) string {
	return fmt.Sprintf("%s%s%02d", phase, TrialInfix, n)
}

// SearchOf returns the search phase a trial's name belongs to ("" when
// the name is not a trial's).
func SearchOf(name string) string {
	if i := strings.LastIndex(name, TrialInfix); i > 0 {
		return name[:i]
	}
	return ""
}

// TrialFile is where trial n of a search phase lives, relative to the
// results directory.
func TrialFile(config, phase string, n int) string {
	return filepath.Join(config, TrialName(phase, n)+".json")
}

// ScanInfix joins a search phase's name and a number in the names of the
// fixed-rate trials of its brute-force check (<phase>.scan-NN), which
// `loadgen sim check-search` runs; no phase of a profile may hold it.
const ScanInfix = ".scan-"

// ScanName is the name of fixed-rate trial n of a search phase's check.
func ScanName(phase string, n int) string {
	return fmt.Sprintf("%s%s%02d", phase, ScanInfix, n)
}

// ScanFile is where the check of a search phase lives, relative to the
// results directory: <config>/<phase>.scan.json.
func ScanFile(config, phase string) string {
	return filepath.Join(config, phase+".scan.json")
}

// SearchCheck is the brute-force check of a search: fixed-rate trials
// with the search's trial design on a grid over its bounds, the true
// capacity at the SLO they show, and the search's answer beside it.
type SearchCheck struct {
	SearchPhase string    `json:"search_phase"`
	Simulated   bool      `json:"simulated"`
	SLO         SearchSLO `json:"slo"`
	Tolerance   float64   `json:"tolerance"`
	Upper       float64   `json:"upper"`
	// Trials are the fixed-rate trials: a coarse grid of Upper/20 steps,
	// then four between the highest pass and the lowest fail above it.
	Trials []Trial `json:"trials"`
	// Truth is the highest passing rate below the lowest failing one (0:
	// none passed); TruthFail that lowest failing rate (0: none failed).
	// Inversions counts passes above a failing rate, where the outcome is
	// not monotone in the rate at this resolution.
	Truth      float64 `json:"truth"`
	TruthFail  float64 `json:"truth_fail"`
	Inversions int     `json:"inversions"`
	// Search, SearchTrials and SearchSeconds are the search's answer and
	// cost (SearchSetAside of its trials measured the client and ran
	// again); Error is (Search − Truth)/Truth (0 when both are 0), and
	// Within says whether |Error| ≤ Tolerance.
	Search         float64 `json:"search"`
	SearchTrials   int     `json:"search_trials"`
	SearchSetAside int     `json:"search_set_aside"`
	SearchSeconds  float64 `json:"search_seconds"`
	Error          float64 `json:"error"`
	Within         bool    `json:"within_tolerance"`
	// Seconds is the check's wall time.
	Seconds float64 `json:"seconds"`
}
