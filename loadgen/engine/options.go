package engine

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// DefaultEndpoint is the completions route of vLLM's OpenAI-compatible API.
const DefaultEndpoint = "/v1/completions"

// DefaultLateThreshold is how far behind its scheduled time an arrival may
// be sent before it counts as late. One millisecond is well above the Go
// timer's wake-up jitter on an idle Linux host (tens of µs), so a late
// arrival means the cap held it back or the client stalled.
const DefaultLateThreshold = time.Millisecond

// DefaultMaxEventBytes is the default Options.MaxEventBytes: 8 MiB, far
// above the completion chunks a benchmark meets (a scored reranker chunk
// is about 1 kB; echoed prompt logprobs of a 2048-token prompt at 20 top
// logprobs a position, about 1 MB).
const DefaultMaxEventBytes = 8 << 20

// MissingLogprobsMessage is the error text of a choice that came back
// without logprobs while scoring.
const MissingLogprobsMessage = "choice has no logprobs: the server did not return " +
	"sample logprobs (vllm-neuron's on-device sampling drops them); set " +
	"`on_device_sampling_config: null` under neuron_config in the profile"

// Options says where and how Run sends a phase's requests and where its
// per-request and interval outputs go.
type Options struct {
	// BaseURL is the server's base URL, e.g. http://127.0.0.1:8000.
	BaseURL string
	// Endpoint is appended to BaseURL (default DefaultEndpoint).
	Endpoint string
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// Header holds extra request headers (read-only once Run starts).
	Header http.Header
	// Model is written to the result's model_id (the request bodies
	// already name the served model).
	Model string
	// Dial, when set, replaces the dialer of the client's connections
	// (net.Dialer; connecting is bounded by 10 s and by the request's
	// timeout); the address is the endpoint's, or its HTTP proxy's.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig, when set, is the TLS configuration of an https endpoint
	// (ServerName defaults to the URL's host; the protocol is always
	// HTTP/1.1). Nil means the system's roots.
	TLSConfig *tls.Config
	// Scorer, when set, turns each choice's first-token top_logprobs into
	// P(yes); a choice without logprobs fails its request with kind
	// missing_logprobs. Nil means synthetic load: logprobs are not read.
	Scorer *workload.Scorer
	// RequestsLog, when set, receives one JSON object per request
	// (requests.jsonl), warmup included and marked.
	RequestsLog io.Writer
	// Hlog, when set, receives an HdrHistogram interval log: one tagged
	// interval histogram per metric (µs) about every HlogInterval.
	Hlog io.Writer
	// HlogInterval is the interval of Hlog and of Progress (default 1 s).
	HlogInterval time.Duration
	// Progress, when set, is called about once per HlogInterval from the
	// collector goroutine; it must return quickly.
	Progress func(Progress)
	// ServerExited, when it closes mid-phase, stops the phase at once:
	// in-flight requests are aborted and EndReason is "server_exited".
	ServerExited <-chan struct{}
	// Simulated and Config are copied into the result.
	Simulated bool
	Config    string
	// Drain is how long in-flight requests may run on after ctx is
	// canceled before they are aborted; EndReason is then "interrupted".
	Drain time.Duration
	// LateThreshold overrides DefaultLateThreshold.
	LateThreshold time.Duration
	// OnQuery, when set, is called from the collector goroutine for every
	// finished measured query, in completion order (e.g. to write
	// scores.jsonl). The outcome's Item and slices are valid only during
	// the call.
	OnQuery func(QueryOutcome)
	// MissingLogprobs overrides MissingLogprobsMessage.
	MissingLogprobs string
	// MaxEventBytes bounds one SSE line and one event's data (default
	// DefaultMaxEventBytes). A stream that exceeds it fails its request
	// with kind response_too_large instead of growing a buffer without
	// limit.
	MaxEventBytes int
	// AfterWarmup, when set, is called once the warmup queries have all
	// finished and before the measured part starts (e.g. to reset the
	// server's prefix cache so that warmup prompts do not flatter the
	// measurement). An error is reported as a warning of the result.
	AfterWarmup func(ctx context.Context) error

	// onResult, when set, sees every request result in the collector
	// goroutine before it is recycled (measurement helpers).
	onResult func(*Result)
	// timerOnly makes the dispatcher wait on its timer alone (fake clocks).
	timerOnly bool
	// spun, when set, receives the time the dispatcher spent spinning.
	spun *time.Duration
}

// Progress is a snapshot of a running phase, handed to Options.Progress.
type Progress struct {
	Phase string
	// Warmup is true while warmup queries are being sent.
	Warmup bool
	// Elapsed is the time since the measured part started.
	Elapsed time.Duration
	// QueriesDone counts finished measured queries; QueriesTotal is the
	// phase's query count (0 when it is bounded by Duration only).
	QueriesDone, QueriesTotal int
	// Duration is the phase's time bound (0: none).
	Duration time.Duration
	// RequestsDone counts finished measured requests, Errors the failed
	// ones, InFlight the requests sent and not yet finished.
	RequestsDone, Errors, InFlight int
	// TargetRate is the current target arrival rate (queries/s);
	// AchievedRate is the rate of arrivals dispatched so far.
	TargetRate   schema.Rate
	AchievedRate float64
	// TTFTP50 and TTFTP99 are running percentiles of measured TTFT.
	TTFTP50, TTFTP99 time.Duration
	// Simulated is copied from Options.
	Simulated bool
}

// QueryOutcome is one finished measured query, handed to Options.OnQuery.
type QueryOutcome struct {
	// Item is the query as the source produced it.
	Item *workload.Item
	// Scheduled is the query's scheduled offset from the phase origin.
	Scheduled time.Duration
	// Latency is the query latency (last request end − scheduled).
	Latency time.Duration
	// Failed is true when any of its requests failed.
	Failed bool
	// Scores holds P(yes) per document (NaN where unscored); nil without a
	// Scorer or for synthetic items.
	Scores []float64
	// MissingYes and MissingNo count documents whose top logprobs lacked
	// "yes" or "no".
	MissingYes, MissingNo int
	// NDCG and MRR (workload.Quality) are set when Labelled: a completed
	// query with at least one relevant document.
	NDCG, MRR float64
	Labelled  bool
}

func (o *Options) interval() time.Duration {
	if o.HlogInterval > 0 {
		return o.HlogInterval
	}
	return time.Second
}

func (o *Options) lateThreshold() time.Duration {
	if o.LateThreshold > 0 {
		return o.LateThreshold
	}
	return DefaultLateThreshold
}
