package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"loadgen/server/neuron"
)

// ErrHelp is returned by ParseArgs for -h/--help; Main prints the usage and
// exits 0.
var ErrHelp = errors.New("help requested")

// Usage is the first line argparse prints before an error.
const Usage = "usage: vllm serve [model_tag] [options]"

// defaultModel is what vllm serve serves when no model is given.
const defaultModel = "Qwen/Qwen3-0.6B"

type flagKind int

const (
	valueFlag flagKind = iota // --flag V or --flag=V
	boolFlag                  // --flag / --no-flag (argparse.BooleanOptionalAction)
	storeTrue                 // --flag only
	listFlag                  // --flag V [V ...] (nargs='+')
)

// flagSpec describes one accepted flag. set is nil for flags that are
// accepted and ignored, as the simulator has nothing to do with them.
type flagSpec struct {
	kind flagKind
	set  func(o *Options, v string) error
	// env names the LOADGEN_SIM_* variable of a --sim-* flag.
	env string
}

func intSetter(f func(o *Options, n int)) func(*Options, string) error {
	return func(o *Options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("invalid int value: '%s'", v)
		}
		f(o, n)
		return nil
	}
}

func floatSetter(f func(o *Options, x float64)) func(*Options, string) error {
	return func(o *Options, v string) error {
		x, err := parseFloat(v)
		if err != nil {
			return fmt.Errorf("invalid float value: '%s'", v)
		}
		f(o, x)
		return nil
	}
}

func boolSetter(f func(o *Options, b bool)) func(*Options, string) error {
	return func(o *Options, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("invalid bool value: '%s'", v)
		}
		f(o, b)
		return nil
	}
}

// flags is the table of accepted flags, keyed by canonical name (dashes).
var flags = map[string]flagSpec{
	"--model":      {kind: valueFlag, set: func(o *Options, v string) error { o.Model = v; return nil }},
	"--host":       {kind: valueFlag, set: func(o *Options, v string) error { o.Host = v; return nil }},
	"--port":       {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.Port = n })},
	"--api-key":    {kind: valueFlag, set: func(o *Options, v string) error { o.APIKey = v; return nil }},
	"--dtype":      {kind: valueFlag, set: func(o *Options, v string) error { o.Dtype = v; return nil }},
	"--seed":       {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.Seed = int64(n) })},
	"--block-size": {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.BlockSize = n })},
	"--served-model-name": {kind: listFlag, set: func(o *Options, v string) error {
		o.ServedModelNames = append(o.ServedModelNames, v)
		return nil
	}},
	"--tensor-parallel-size":    {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.TensorParallelSize = n })},
	"--max-model-len":           {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.MaxModelLen = n })},
	"--max-num-seqs":            {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.MaxNumSeqs = n })},
	"--max-num-batched-tokens":  {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.MaxNumBatchedTokens = n })},
	"--num-gpu-blocks-override": {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.NumGPUBlocksOverride = n })},
	"--max-logprobs":            {kind: valueFlag, set: intSetter(func(o *Options, n int) { o.MaxLogprobs = n })},
	"--additional-config":       {kind: valueFlag, set: setAdditionalConfig},
	"--enable-prefix-caching":   {kind: boolFlag, set: boolSetter(func(o *Options, b bool) { o.PrefixCaching = b })},
	"--enable-chunked-prefill":  {kind: boolFlag, set: boolSetter(func(o *Options, b bool) { o.EnableChunkedPrefill = b })},
	"--return-tokens-as-token-ids": {kind: storeTrue, set: boolSetter(func(o *Options, b bool) {
		o.ReturnTokensAsTokenIDs = b
	})},

	// Simulator flags; each also reads LOADGEN_SIM_<NAME>.
	"--sim-stack": {kind: valueFlag, env: "LOADGEN_SIM_STACK", set: func(o *Options, v string) error {
		st, err := neuron.Lookup(v)
		if err != nil {
			return fmt.Errorf("invalid choice: '%s' (choose from %s)", v, strings.Join(neuron.Names(), ", "))
		}
		o.Stack = st
		return nil
	}},
	"--sim-speed":         {kind: valueFlag, env: "LOADGEN_SIM_SPEED", set: floatSetter(func(o *Options, x float64) { o.Speed = x })},
	"--sim-startup-speed": {kind: valueFlag, env: "LOADGEN_SIM_STARTUP_SPEED", set: floatSetter(func(o *Options, x float64) { o.StartupSpeed = x })},
	"--sim-zero-latency":  {kind: boolFlag, env: "LOADGEN_SIM_ZERO_LATENCY", set: boolSetter(func(o *Options, b bool) { o.ZeroLatency = b })},
	"--sim-seed":          {kind: valueFlag, env: "LOADGEN_SIM_SEED", set: intSetter(func(o *Options, n int) { o.SimSeed = int64(n) })},
	"--sim-jitter":        {kind: valueFlag, env: "LOADGEN_SIM_JITTER", set: floatSetter(func(o *Options, x float64) { o.Jitter = x })},
	"--sim-error-rate":    {kind: valueFlag, env: "LOADGEN_SIM_ERROR_RATE", set: floatSetter(func(o *Options, x float64) { o.ErrorRate = x })},
	"--sim-stream-error-rate": {kind: valueFlag, env: "LOADGEN_SIM_STREAM_ERROR_RATE", set: floatSetter(func(o *Options, x float64) {
		o.StreamErrorRate = x
	})},
	"--sim-slow-rate":   {kind: valueFlag, env: "LOADGEN_SIM_SLOW_RATE", set: floatSetter(func(o *Options, x float64) { o.SlowRate = x })},
	"--sim-slow-factor": {kind: valueFlag, env: "LOADGEN_SIM_SLOW_FACTOR", set: floatSetter(func(o *Options, x float64) { o.SlowFactor = x })},
	"--sim-drop-rate":   {kind: valueFlag, env: "LOADGEN_SIM_DROP_RATE", set: floatSetter(func(o *Options, x float64) { o.DropRate = x })},
	"--sim-crash-after": {kind: valueFlag, env: "LOADGEN_SIM_CRASH_AFTER", set: intSetter(func(o *Options, n int) { o.CrashAfter = n })},
	"--sim-stats-cap":   {kind: valueFlag, env: "LOADGEN_SIM_STATS_CAP", set: intSetter(func(o *Options, n int) { o.StatsCap = n })},
}

// ignoredValueFlags and ignoredBoolFlags are vllm serve flags accepted and
// ignored (they change nothing the simulator models).
var ignoredValueFlags = []string{
	"--tokenizer", "--revision", "--code-revision", "--tokenizer-revision", "--tokenizer-mode",
	"--download-dir", "--load-format", "--config-format", "--config", "--kv-cache-dtype",
	"--gpu-memory-utilization", "--swap-space", "--cpu-offload-gb", "--quantization",
	"--max-seq-len-to-capture", "--pipeline-parallel-size", "--data-parallel-size",
	"--distributed-executor-backend", "--uvicorn-log-level", "--root-path", "--allowed-origins",
	"--allowed-methods", "--allowed-headers", "--chat-template", "--chat-template-content-format",
	"--response-role", "--ssl-keyfile", "--ssl-certfile", "--ssl-ca-certs", "--lora-modules",
	"--max-loras", "--max-lora-rank", "--max-cpu-loras", "--generation-config",
	"--override-generation-config", "--hf-overrides", "--logprobs-mode", "--scheduling-policy",
	"--long-prefill-token-threshold", "--max-num-partial-prefills", "--tool-call-parser",
	"--reasoning-parser", "--task", "--runner", "--convert", "--compilation-config",
	"--kv-transfer-config", "--speculative-config", "--limit-mm-per-prompt",
	"--guided-decoding-backend", "--middleware", "--api-server-count", "--prefix-caching-hash-algo",
	"--max-parallel-loading-workers", "--worker-cls", "--worker-extension-cls",
	"--log-config-file", "--max-log-len", "--hf-token", "--tokenizer-pool-size",
	"--enable-ssl-refresh", "--otlp-traces-endpoint", "--collect-detailed-traces",
	"--mm-processor-kwargs", "--override-pooler-config", "--pooler-config", "--max-long-partial-prefills",
}

var ignoredBoolFlags = []string{
	"--trust-remote-code", "--enforce-eager", "--disable-log-stats", "--disable-log-requests",
	"--enable-log-requests", "--disable-uvicorn-access-log", "--enable-auto-tool-choice",
	"--enable-prompt-tokens-details", "--enable-force-include-usage", "--enable-server-load-tracking",
	"--disable-frontend-multiprocessing", "--enable-request-id-headers", "--disable-fastapi-docs",
	"--skip-tokenizer-init", "--enable-lora", "--disable-custom-all-reduce", "--disable-sliding-window",
	"--disable-cascade-attn", "--async-scheduling", "--enable-expert-parallel", "--headless",
	"--enable-sleep-mode", "--enable-tokenizer-info-endpoint", "--allow-credentials",
	"--enable-log-outputs", "--disable-mm-preprocessor-cache", "--enable-prompt-embeds",
}

// shortFlags maps argparse short options to their long names.
var shortFlags = map[string]string{"-tp": "--tensor-parallel-size", "-pp": "--pipeline-parallel-size",
	"-dp": "--data-parallel-size", "-q": "--quantization", "-O": "--compilation-config"}

func init() {
	for _, f := range ignoredValueFlags {
		flags[f] = flagSpec{kind: valueFlag}
	}
	for _, f := range ignoredBoolFlags {
		flags[f] = flagSpec{kind: boolFlag}
	}
}

func setAdditionalConfig(o *Options, v string) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return fmt.Errorf("invalid loads value: '%s'", v)
	}
	o.AdditionalConfig = v
	o.Override, o.OverrideKeys = nil, nil
	if ov, ok := m["override_neuron_config"]; ok && ov != nil {
		om, ok := ov.(map[string]any)
		if !ok {
			return fmt.Errorf("override_neuron_config must be a JSON object, got %s", v)
		}
		o.Override = om
		o.OverrideKeys = objectKeys([]byte(v), "override_neuron_config")
	}
	return nil
}

// ParseArgs parses `vllm serve` argv (starting at "serve" or at the model)
// and the environment ("KEY=VALUE" entries) into Options. Argparse-style
// errors are returned as *ExitError with Code 2 and vLLM's wording, e.g.
// "unrecognized arguments: --foo"; -h/--help returns ErrHelp.
// LOADGEN_SIM_* variables set the --sim-* knobs; flags win over them.
func ParseArgs(args []string, env []string) (Options, error) {
	o := DefaultOptions("")
	if err := applyEnv(&o, env); err != nil {
		return o, usageError(err.Error())
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	var positional, unknown []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			return o, ErrHelp
		}
		if !strings.HasPrefix(a, "-") || a == "-" || isNumber(a) {
			positional = append(positional, a)
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		if strings.HasPrefix(name, "--") {
			name = "--" + strings.ReplaceAll(name[2:], "_", "-")
		} else if long, ok := shortFlags[name]; ok {
			name = long
		} else if long, ok := shortFlags[name[:min(2, len(name))]]; ok && len(name) > 2 && !hasVal {
			name, val, hasVal = long, name[2:], true // -O3
		}
		spec, neg, ok := lookupFlag(name)
		if !ok {
			unknown = append(unknown, a)
			continue
		}
		set := func(v string) error {
			if spec.set == nil {
				return nil
			}
			if err := spec.set(&o, v); err != nil {
				return usageError(fmt.Sprintf("argument %s: %v", name, err))
			}
			return nil
		}
		switch spec.kind {
		case boolFlag, storeTrue:
			if hasVal {
				return o, usageError(fmt.Sprintf("argument %s: ignored explicit argument '%s'", name, val))
			}
			if err := set(strconv.FormatBool(!neg)); err != nil {
				return o, err
			}
		case valueFlag:
			if !hasVal {
				if i+1 >= len(args) || looksLikeFlag(args[i+1]) {
					return o, usageError(fmt.Sprintf("argument %s: expected one argument", name))
				}
				i++
				val = args[i]
			}
			if err := set(val); err != nil {
				return o, err
			}
		case listFlag:
			var vals []string
			if hasVal {
				vals = append(vals, val)
			}
			for !hasVal && i+1 < len(args) && !looksLikeFlag(args[i+1]) {
				i++
				vals = append(vals, args[i])
			}
			if len(vals) == 0 {
				return o, usageError(fmt.Sprintf("argument %s: expected at least one argument", name))
			}
			if spec.set != nil {
				o.ServedModelNames = nil
			}
			for _, v := range vals {
				if err := set(v); err != nil {
					return o, err
				}
			}
		}
	}
	if len(positional) > 0 {
		o.Model = positional[0]
		unknown = append(unknown, positional[1:]...)
	}
	if len(unknown) > 0 {
		return o, usageError("unrecognized arguments: " + strings.Join(unknown, " "))
	}
	if o.Model == "" {
		o.Model = defaultModel
	}
	if err := o.Validate(); err != nil {
		return o, usageError(err.Error())
	}
	return o, nil
}

// lookupFlag finds a flag by canonical name, also as --no-<bool flag>.
func lookupFlag(name string) (spec flagSpec, negated, ok bool) {
	if spec, ok := flags[name]; ok {
		return spec, false, true
	}
	if rest, found := strings.CutPrefix(name, "--no-"); found {
		if spec, ok := flags["--"+rest]; ok && spec.kind == boolFlag {
			return spec, true, true
		}
	}
	return flagSpec{}, false, false
}

func looksLikeFlag(s string) bool {
	return strings.HasPrefix(s, "-") && len(s) > 1 && !isNumber(s)
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func applyEnv(o *Options, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	o.CompiledArtifacts = vars["NEURON_COMPILED_ARTIFACTS"]
	o.VisibleCores = vars["NEURON_RT_VISIBLE_CORES"]
	o.APIKey = vars["VLLM_API_KEY"]
	o.DevMode, _ = parseBool(vars["VLLM_SERVER_DEV_MODE"])
	o.KeepAliveOnEngineDeath, _ = parseBool(vars["VLLM_KEEP_ALIVE_ON_ENGINE_DEATH"])
	o.CustomSchedulerOff, _ = parseBool(vars["DISABLE_NEURON_CUSTOM_SCHEDULER"])
	names := make([]string, 0, len(flags))
	for name := range flags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		spec := flags[name]
		if spec.env == "" {
			continue
		}
		v, ok := vars[spec.env]
		if !ok || v == "" {
			continue
		}
		if err := spec.set(o, v); err != nil {
			return fmt.Errorf("environment %s: %v", spec.env, err)
		}
	}
	return nil
}

// HelpText lists the flags the simulator interprets; the others of
// vllm serve are accepted and ignored.
func HelpText() string {
	var b strings.Builder
	b.WriteString(Usage + "\n\n")
	b.WriteString("Simulated vllm-neuron server (loadgen sim serve). Accepts the argv of `vllm serve`.\n\n")
	b.WriteString("Interpreted vLLM flags:\n")
	var vllm, simf []string
	for name, spec := range flags {
		if spec.set == nil {
			continue
		}
		if strings.HasPrefix(name, "--sim-") {
			simf = append(simf, fmt.Sprintf("  %-26s env %s", name, spec.env))
		} else {
			vllm = append(vllm, "  "+name)
		}
	}
	sort.Strings(vllm)
	sort.Strings(simf)
	b.WriteString(strings.Join(vllm, "\n"))
	b.WriteString("\n\nSimulator flags:\n")
	b.WriteString(strings.Join(simf, "\n"))
	b.WriteString("\n\nEnvironment: NEURON_COMPILED_ARTIFACTS, NEURON_RT_VISIBLE_CORES, VLLM_SERVER_DEV_MODE, VLLM_API_KEY.\n")
	return b.String()
}
