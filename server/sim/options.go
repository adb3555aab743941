package sim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"loadgen/server/neuron"
)

// Defaults of vllm serve (and of the vllm-neuron plugin where it overrides
// vLLM's) for the flags the simulator interprets.
const (
	DefaultPort        = 8000
	DefaultMaxModelLen = 40960 // Qwen3's max_position_embeddings
	// DefaultMaxNumSeqs is vllm serve's: vLLM 0.11 sets 256 for the API
	// server before the plugin's fallback of 32 could apply
	// (vllm-project/vllm v0.11.0 vllm/engine/arg_utils.py L1616–1619;
	// vllm-neuron 0.2.0 vllm_neuron/platform.py L195–201).
	DefaultMaxNumSeqs  = 256
	DefaultMaxLogprobs = 20
	DefaultDtype       = "bfloat16"
	DefaultJitter      = 0.03
	DefaultSlowFactor  = 10
	DefaultStatsCap    = 20000
)

// Options is everything the command line and the environment set. Tests
// build servers in-process from it; ParseArgs fills it from argv the way
// `vllm serve` would.
type Options struct {
	// Model is the positional model (path or hub id); it is /v1/models' root.
	Model string
	// ServedModelNames are the names requests may use; empty means Model.
	ServedModelNames []string
	Host             string
	Port             int

	TensorParallelSize  int
	MaxModelLen         int
	MaxNumSeqs          int
	MaxNumBatchedTokens int
	// BlockSize is --block-size; 0 means not given.
	BlockSize int
	// NumGPUBlocksOverride is --num-gpu-blocks-override; 0 means not given.
	NumGPUBlocksOverride int
	Dtype                string
	// PrefixCaching is --enable-prefix-caching; vLLM V1 turns it on by
	// default for generative models, so it is true unless
	// --no-enable-prefix-caching is given.
	PrefixCaching        bool
	EnableChunkedPrefill bool
	// AdditionalConfig is the raw --additional-config JSON ("" if absent).
	AdditionalConfig string
	// Override is additional_config["override_neuron_config"] as decoded
	// JSON (nil when absent).
	Override map[string]any
	// OverrideKeys is the order of Override's keys in the JSON (for log
	// lines); when nil the keys are taken sorted.
	OverrideKeys           []string
	MaxLogprobs            int
	APIKey                 string
	ReturnTokensAsTokenIDs bool
	Seed                   int64

	// Environment.
	CompiledArtifacts      string // NEURON_COMPILED_ARTIFACTS
	VisibleCores           string // NEURON_RT_VISIBLE_CORES
	DevMode                bool   // VLLM_SERVER_DEV_MODE=1: POST /reset_prefix_cache
	KeepAliveOnEngineDeath bool   // VLLM_KEEP_ALIVE_ON_ENGINE_DEATH=1
	CustomSchedulerOff     bool   // DISABLE_NEURON_CUSTOM_SCHEDULER=1

	// Simulator knobs (--sim-* flags, LOADGEN_SIM_* environment).

	// Stack is the simulated vllm-neuron stack (--sim-stack; nil means
	// neuron.Default()): its versions, log lines and rules.
	Stack        *neuron.Stack
	Speed        float64 // divides all simulated time (default 1)
	StartupSpeed float64 // further divides startup and compile time (default 1)
	ZeroLatency  bool    // no model delay at all
	SimSeed      int64
	Jitter       float64 // relative standard deviation of step times

	ErrorRate       float64 // P(500 before the response)
	StreamErrorRate float64 // P(error inside a 200 stream)
	SlowRate        float64 // P(a request's engine time is multiplied by SlowFactor)
	SlowFactor      float64
	DropRate        float64 // P(connection dropped mid-response)
	CrashAfter      int     // engine dies when request CrashAfter+1 arrives (0 = never)
	// StatsCap bounds the per-prompt records kept for Stats (oldest dropped).
	StatsCap int

	// Latency is the latency model; ParseArgs sets DefaultLatency.
	Latency LatencyModel
}

// DefaultOptions returns the options `vllm serve MODEL` would run with.
func DefaultOptions(model string) Options {
	return Options{
		Model:              model,
		Host:               "",
		Port:               DefaultPort,
		TensorParallelSize: 1,
		MaxModelLen:        DefaultMaxModelLen,
		MaxNumSeqs:         DefaultMaxNumSeqs,
		Dtype:              DefaultDtype,
		PrefixCaching:      true,
		MaxLogprobs:        DefaultMaxLogprobs,
		Speed:              1,
		StartupSpeed:       1,
		Jitter:             DefaultJitter,
		SlowFactor:         DefaultSlowFactor,
		StatsCap:           DefaultStatsCap,
		Latency:            DefaultLatency,
	}
}

// stack returns the simulated stack.
func (o Options) stack() *neuron.Stack {
	if o.Stack == nil {
		return neuron.Default()
	}
	return o.Stack
}

// Version is the vLLM version the simulated server reports: the one its
// stack pins (vllm-neuron 0.2.x pins vllm==0.11.0).
func (o Options) Version() string { return o.stack().VLLM }

// ServedNames returns the served model names (Model when none were given).
func (o Options) ServedNames() []string {
	if len(o.ServedModelNames) > 0 {
		return o.ServedModelNames
	}
	return []string{o.Model}
}

// overrideKeys returns Override's keys in their JSON order.
func (o Options) overrideKeys() []string {
	if len(o.OverrideKeys) == len(o.Override) {
		return o.OverrideKeys
	}
	keys := make([]string, 0, len(o.Override))
	for k := range o.Override {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Validate checks the simulator's own knobs (vLLM and Neuron configuration
// errors are startup failures, reported by Main in vLLM's words).
func (o Options) Validate() error {
	if o.Speed <= 0 {
		return fmt.Errorf("--sim-speed must be > 0, got %g", o.Speed)
	}
	if o.StartupSpeed <= 0 {
		return fmt.Errorf("--sim-startup-speed must be > 0, got %g", o.StartupSpeed)
	}
	if o.Jitter < 0 || o.Jitter > 0.5 {
		return fmt.Errorf("--sim-jitter must be in [0, 0.5], got %g", o.Jitter)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"--sim-error-rate", o.ErrorRate},
		{"--sim-stream-error-rate", o.StreamErrorRate},
		{"--sim-slow-rate", o.SlowRate},
		{"--sim-drop-rate", o.DropRate},
	} {
		if p.v < 0 || p.v > 1 {
			return fmt.Errorf("%s must be a probability in [0, 1], got %g", p.name, p.v)
		}
	}
	if o.SlowFactor < 1 {
		return fmt.Errorf("--sim-slow-factor must be >= 1, got %g", o.SlowFactor)
	}
	if o.CrashAfter < 0 {
		return fmt.Errorf("--sim-crash-after must be >= 0, got %d", o.CrashAfter)
	}
	if o.MaxModelLen <= 0 {
		return fmt.Errorf("--max-model-len must be > 0, got %d", o.MaxModelLen)
	}
	if o.MaxNumSeqs <= 0 {
		return fmt.Errorf("--max-num-seqs must be > 0, got %d", o.MaxNumSeqs)
	}
	if o.TensorParallelSize <= 0 {
		return fmt.Errorf("--tensor-parallel-size must be > 0, got %d", o.TensorParallelSize)
	}
	return nil
}

// parseBool reads an environment-style boolean ("1", "true", "yes", "on").
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }
