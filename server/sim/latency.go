package sim

import "math"

// LatencyModel holds every constant of the simulated timing, in model
// seconds (wall time = model time / Options.Speed, and startup phases are
// further divided by Options.StartupSpeed).
//
// Serving. One context-encoding (prefill) pass per engine step, one prompt
// at a time, costs
//
//	t = a + b·P       P = padded length
//
// where P is the padded length of the prompt's context-encoding bucket
// (package neuron picks it as NxDI does): without prefix caching the first
// bucket longer than the prompt (128, 256, … with bucketing on,
// max_context_length = max_model_len with it off); with prefix caching the
// 2-D (prefill, prefix) bucket, P = prefill + prefix, whose automatic
// prefill lengths start at 512, so short prompts pad to 512.
// Prefix caching is modelled as a different kernel rather than a factor:
// the block-KV layout adds a fixed per-step cost (block-table setup, KV
// scatter into blocks: a grows) but its attention reads only the blocks in
// use, so the per-padded-token cost drops (b shrinks). One multiplier cannot
// fit the offline table (APC costs +33% with bucketing on, −6.5% with it
// off); two lines can, and they cross near P ≈ 1500 tokens. Prefix-cache
// hits are counted for /metrics but do not shorten the pass: NxDI still runs
// the whole padded bucket, and the offline data shows no benefit from them.
//
// The per-token cost b scales with tensor parallelism as
// (TPRef/tp)^TPExponent; the table was measured at TP 2 only, so other
// degrees are an uncalibrated extrapolation.
//
// Decode steps (max_tokens > 1) cost DecodeBase + DecodePerToken·B_tkg,
// B_tkg being the token-generation bucket of the longest running sequence;
// these are plausible values for a 0.6B model on inf2, not fitted.
//
// With skip_warmup the first prompt that hits each context bucket pays
// ColdBucket once (what warmup would have paid at startup).
//
// Fitting. DefaultLatency's a, b and their APC twins solve the two-point
// system of the offline table (testdata/offline-inf2-xlarge): with E[P] the mean
// padded length of the shipped workload under bucketing (auto buckets
// 128…2048 without prefix caching, 512…2048 × prefix 0…2048 with it) and
// 20 prompts per query,
//
//	20·(a + b·E[P])  = 0.3228 s   (APC off, bucketing on)
//	20·(a + b·2048)  = 1.2268 s   (APC off, bucketing off)
//	20·(a' + b'·E[P]) = 0.4306 s  (APC on,  bucketing on)
//	20·(a' + b'·2048) = 1.1470 s  (APC on,  bucketing off)
//
// TestCalibration re-runs a sync sweep through the HTTP handler and prints
// the constants fitted to whatever length distribution it is given (the
// real dataset when present), so they can be refreshed here.
type LatencyModel struct {
	PrefillBase        float64 // a, APC off (s)
	PrefillPerToken    float64 // b, APC off (s per padded token)
	APCPrefillBase     float64 // a', APC on
	APCPrefillPerToken float64 // b', APC on
	TPRef              int
	TPExponent         float64
	DecodeBase         float64
	DecodePerToken     float64
	ColdBucket         float64

	// Startup phases.
	ProcessStart     float64 // imports and argument parsing until the plugin is active
	EngineInit       float64 // engine core process start, config resolution
	HLOPerBucket     float64 // tracing one bucket into HLO
	PriorityCompile  float64 // neuronx-cc on the priority HLO
	CompilePerBucket float64 // neuronx-cc on every other bucket
	LoadArtifacts    float64 // loading compiled NEFFs from NEURON_COMPILED_ARTIFACTS
	LoadWeights      float64 // sharding and loading weights onto the cores
	WarmupPerBucket  float64 // warmup run of each bucket (skipped with skip_warmup)
	ServerStart      float64 // API server routes until "Application startup complete."
}

// DefaultLatency is the calibrated model (see LatencyModel for the fit).
var DefaultLatency = LatencyModel{
	PrefillBase:        0.005756,
	PrefillPerToken:    2.7079e-5,
	APCPrefillBase:     0.009465,
	APCPrefillPerToken: 2.3320e-5,
	TPRef:              2,
	TPExponent:         0.8,
	DecodeBase:         0.006,
	DecodePerToken:     3e-6,
	ColdBucket:         0.03,

	ProcessStart:     6,
	EngineInit:       5,
	HLOPerBucket:     1.2,
	PriorityCompile:  90,
	CompilePerBucket: 55,
	LoadArtifacts:    4,
	LoadWeights:      12,
	WarmupPerBucket:  0.6,
	ServerStart:      1,
}

// Prefill returns the model time of one context-encoding pass over a
// prompt padded to padded tokens.
func (m LatencyModel) Prefill(padded int, prefixCaching bool, tp int) float64 {
	a, b := m.PrefillBase, m.PrefillPerToken
	if prefixCaching {
		a, b = m.APCPrefillBase, m.APCPrefillPerToken
	}
	return a + b*m.tpScale(tp)*float64(padded)
}

// Decode returns the model time of one token-generation step whose longest
// sequence falls in bucket tkgBucket.
func (m LatencyModel) Decode(tkgBucket, tp int) float64 {
	return m.DecodeBase + m.DecodePerToken*m.tpScale(tp)*float64(tkgBucket)
}

func (m LatencyModel) tpScale(tp int) float64 {
	if tp <= 0 || m.TPRef <= 0 || tp == m.TPRef {
		return 1
	}
	return math.Pow(float64(m.TPRef)/float64(tp), m.TPExponent)
}

// Compile returns the model time of a cold compile of n buckets.
func (m LatencyModel) Compile(n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(n)*m.HLOPerBucket + m.PriorityCompile + float64(n-1)*m.CompilePerBucket
}
