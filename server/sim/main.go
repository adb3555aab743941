package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"loadgen/server/neuron"
)

// Main implements `loadgen sim serve MODEL [vllm serve flags] [--sim-*
// flags]`; args start at "serve" or at MODEL. It reads the environment
// (NEURON_COMPILED_ARTIFACTS, NEURON_RT_VISIBLE_CORES, VLLM_SERVER_DEV_MODE,
// VLLM_API_KEY, LOADGEN_SIM_*), runs the simulated startup (compile or
// artifact load, weight loading, warmup) with vllm-neuron's log lines on
// stdout and tracebacks on stderr, and only then listens, so connections
// are refused until the server is ready. It serves until ctx is cancelled
// (the CLI cancels it on SIGTERM/SIGINT) and shuts down gracefully,
// logging "Shutting down".
//
// Errors are *ExitError: Code 2 for argparse errors (after printing
// "vllm: error: …" to stderr), 1 for startup failures and engine death
// (after logging them as vLLM would). The CLI exits with ExitCode().
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := ParseArgs(args, os.Environ())
	if errors.Is(err, ErrHelp) {
		fmt.Fprint(stdout, HelpText())
		return nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s\nvllm: error: %v\n", Usage, err)
		return err
	}
	return run(ctx, opts, newLogger(stdout, stderr))
}

// startup paces the simulated startup phases.
type startup struct {
	ctx     context.Context
	divisor float64
	log     *logger
	lat     LatencyModel
	zero    bool
}

// wait sleeps for model seconds of startup time (none in zero-latency
// mode); false if cancelled.
func (st *startup) wait(seconds float64) bool {
	d := time.Duration(seconds / st.divisor * float64(time.Second))
	if st.zero {
		d = 0
	}
	if d <= 0 {
		return st.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-st.ctx.Done():
		return false
	}
}

func run(ctx context.Context, opts Options, log *logger) error {
	lat := opts.Latency
	st := &startup{ctx: ctx, divisor: opts.Speed * opts.StartupSpeed, log: log, lat: lat, zero: opts.ZeroLatency}
	log.plugin("INFO", "__init__.py:36", "Available plugins for group vllm.platform_plugins:")
	log.plugin("INFO", "__init__.py:38", "- neuron -> vllm_neuron:register")
	log.plugin("INFO", "__init__.py:41", "All plugins in this group will be loaded. Set `VLLM_PLUGINS` to control which plugins to load.")
	log.plugin("INFO", "__init__.py:207", "Platform plugin neuron is activated")
	log.plugin("WARNING", "loadgen_sim.py:1", "SIMULATED vllm-neuron server (loadgen sim): no Inferentia hardware is used; stack %s; sim_speed=%s sim_startup_speed=%s sim_zero_latency=%s sim_seed=%d",
		opts.stack(), pyFloat(opts.Speed), pyFloat(opts.StartupSpeed), pyBool(opts.ZeroLatency), opts.SimSeed)
	log.api("INFO", "api_server.py:1818", neuron.MsgServerVersion, opts.Version())
	log.api("INFO", "utils.py:328", "non-default args: %s", nonDefaultArgs(opts))
	if opts.CompiledArtifacts == "" {
		log.api("WARNING", "loadgen_sim.py:2", "NEURON_COMPILED_ARTIFACTS is not set: the model will be recompiled on every start")
	}
	// vLLM binds its socket early: a taken port fails here.
	if ln, err := net.Listen("tcp", listenAddr(opts)); err != nil {
		log.traceback(false, []string{`File "/opt/vllm/vllm/entrypoints/openai/api_server.py", line 1901, in run_server`},
			"OSError: [Errno 98] Address already in use")
		return failure("listen %s: %w", listenAddr(opts), err)
	} else {
		ln.Close()
	}
	if !st.wait(lat.ProcessStart) {
		return shutdownLog(log, nil)
	}
	cfg, err := resolveConfig(opts)
	for _, line := range cfg.Platform {
		log.pylog("INFO", neuron.LoggerPlatform, "%s", line)
	}
	var se *startupError
	if errors.As(err, &se) && !se.Engine {
		log.traceback(false, []string{`File "/opt/vllm_neuron/vllm_neuron/platform.py", line 209, in check_and_update_config`}, se.Exception)
		return failure("startup: %s", se.Exception)
	}
	log.engine("INFO", "core.py:77", "Initializing a V1 LLM engine (v%s) with config: model='%s', tokenizer='%s', dtype=torch.%s, max_seq_len=%d, tensor_parallel_size=%d, device_config=cpu, seed=%d, served_model_name=%s, enable_prefix_caching=%s, chunked_prefill_enabled=False",
		opts.Version(), opts.Model, opts.Model, opts.Dtype, opts.MaxModelLen, opts.TensorParallelSize, opts.Seed, opts.ServedNames()[0], pyBool(opts.PrefixCaching))
	if err != nil {
		return engineFailed(log, err.Error())
	}
	if !st.wait(lat.EngineInit) {
		return shutdownLog(log, nil)
	}
	if opts.Override != nil {
		log.pylog("INFO", neuron.LoggerLoader, "%s%s", neuron.MsgRetrievedOverrides, pyReprOrdered(opts.Override, opts.overrideKeys()))
	} else {
		log.pylog("INFO", neuron.LoggerLoader, "%s%s. Proceeding with defaults.", neuron.MsgNoOverrides, additionalRepr(opts))
	}
	// The plugin builds NeuronConfig(**defaults+overrides) first, on both
	// paths (loader L160–163): keys it does not pop before its check are
	// listed.
	if len(cfg.Unexpected) > 0 {
		unexpected := map[string]any{}
		for _, k := range cfg.Unexpected {
			unexpected[k] = opts.Override[k]
		}
		log.pylog("WARNING", neuron.LoggerRoot, "%s%s", neuron.MsgUnexpectedKwargs, pyReprOrdered(unexpected, cfg.Unexpected))
	}
	hash := configHash(opts, cfg)
	path := artifactsPath(opts, hash)
	cached := false
	if opts.CompiledArtifacts != "" {
		m, ok, err := readMarker(path)
		if err != nil {
			log.pylog("WARNING", neuron.LoggerLoader, "Exception: %v", err)
		}
		if ok {
			cached = true
			if !st.wait(lat.LoadArtifacts) {
				return shutdownLog(log, nil)
			}
			// NxDI rebuilds its config from the saved neuron_config.json,
			// whose derived attributes it lists (models/config.py
			// from_json_string); the saved config wins over the flags.
			log.pylog("WARNING", neuron.LoggerRoot, "%s%s", neuron.MsgUnexpectedKwargs, derivedRepr(opts.stack(), m.Neuron))
			if m.Hash != hash {
				cfg.Neuron = m.Neuron
			}
		}
	}
	if err := kShapeError(cfg.Neuron); err != nil {
		return engineFailed(log, err.Error())
	}
	if !cached {
		log.pylog("WARNING", neuron.LoggerLoader, "Exception: [Errno 2] No such file or directory: '%s/neuron_config.json'", path)
		log.pylog("WARNING", neuron.LoggerLoader, neuron.MsgArtifactsMiss, path)
		log.pylog("INFO", neuron.LoggerNeuron, "%s%s", neuron.MsgSavingNeuronConfig, path)
		if !compile(st, cfg.Neuron) {
			return shutdownLog(log, nil)
		}
		if opts.CompiledArtifacts != "" {
			m := artifactMarker{Simulator: "loadgen sim, stack " + opts.stack().Name, Hash: hash, Neuron: cfg.Neuron, Model: opts.Model, Created: time.Now().UTC()}
			if err := writeMarker(path, m); err != nil {
				return engineFailed(log, "OSError: "+err.Error())
			}
		}
	}
	var locks *coreLocks
	if opts.VisibleCores != "" {
		cores, err := parseCores(opts.VisibleCores)
		if err != nil {
			return engineFailed(log, "ValueError: "+err.Error())
		}
		var busy []int
		locks, busy, err = acquireCores(cores)
		if err != nil {
			return engineFailed(log, "RuntimeError: "+err.Error())
		}
		if len(busy) > 0 {
			log.raw(true, fmt.Sprintf("%s %d:%d ERROR  NRT:nrt_allocate_neuron_cores               "+neuron.MsgCoresBusy,
				time.Now().Format("2006-Jan-02 15:04:05.000000"), log.pid, log.pid, coreRange(cores)))
			return engineFailed(log, "RuntimeError: Failed to initialize the Neuron runtime: nrt_init status=NRT_RESOURCE (cores busy, ret=-16)")
		}
	}
	defer locks.release()
	log.pylog("INFO", neuron.LoggerNeuron, "%s", neuron.MsgSkipPresharding)
	log.pylog("INFO", neuron.LoggerNeuron, "%s", neuron.MsgShardingOnLoad)
	if !st.wait(lat.LoadWeights) {
		return shutdownLog(log, nil)
	}
	log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgWeightsLoaded, pyFloat(lat.LoadWeights))
	if cfg.Neuron.SkipWarmup {
		log.pylog("INFO", neuron.LoggerNeuron, "%s", neuron.MsgSkippingWarmup)
	} else {
		log.pylog("INFO", neuron.LoggerNeuron, "%s", neuron.MsgWarmingUp)
		w := lat.WarmupPerBucket * float64(cfg.Neuron.Buckets.Graphs())
		if !st.wait(w) {
			return shutdownLog(log, nil)
		}
		log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgWarmupDone, pyFloat(w))
	}
	if cached {
		log.pylog("INFO", neuron.LoggerLoader, neuron.MsgArtifactsHit, path)
		if len(opts.Override) > 0 {
			log.pylog("WARNING", neuron.LoggerLoader, "%s", neuron.MsgOverridesIgnored)
		}
	}
	if cfg.Neuron.OnDeviceSampling {
		log.pylog("INFO", neuron.LoggerRunner, neuron.MsgHardwareSampling, "<neuronx_distributed_inference.models.config.OnDeviceSamplingConfig object>")
	} else {
		log.pylog("INFO", neuron.LoggerRunner, "%s", neuron.MsgCPUSampling)
	}
	log.engine("INFO", "kv_cache_utils.py:849", "GPU KV cache size: %d tokens", cfg.NumBlocks*cfg.BlockSize)
	log.engine("INFO", "core.py:210", "init engine (profile, create kv cache, warmup model) took %s seconds", pyFloat(lat.LoadWeights))
	log.api("INFO", "loggers.py:142", "Engine 000: vllm cache_config_info with initialization after num_gpu_blocks is: %d", cfg.NumBlocks)
	log.api("INFO", "serving_completion.py:77", "Using default completion sampling params from model: {'temperature': 0.6, 'top_k': 20, 'top_p': 0.95}")
	log.api("INFO", "api_server.py:1692", "Supported_tasks: ['generate']")
	if !st.wait(lat.ServerStart) {
		return shutdownLog(log, nil)
	}
	srv := newServer(opts, cfg, log)
	defer srv.Close()
	ln, err := net.Listen("tcp", listenAddr(opts))
	if err != nil {
		log.traceback(false, []string{`File "/opt/vllm/vllm/entrypoints/openai/api_server.py", line 1901, in run_server`},
			"OSError: [Errno 98] Address already in use")
		return failure("listen %s: %w", listenAddr(opts), err)
	}
	host := opts.Host
	if host == "" {
		host = "0.0.0.0"
	}
	log.api("INFO", "api_server.py:1971", "Starting vLLM API server 0 on http://%s", net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))
	log.api("INFO", "launcher.py:36", "Available routes are:")
	for _, r := range []string{"/health, Methods: GET", "/ping, Methods: GET, POST", "/version, Methods: GET", "/load, Methods: GET",
		"/tokenize, Methods: POST", "/detokenize, Methods: POST", "/v1/models, Methods: GET", "/v1/completions, Methods: POST", "/metrics, Methods: GET"} {
		log.api("INFO", "launcher.py:44", "Route: %s", r)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.uvicorn("Started server process [%d]", log.pid)
	log.uvicorn("Waiting for application startup.")
	log.uvicorn("Application startup complete.")
	go logStats(ctx, srv, log)

	var result error
	select {
	case <-ctx.Done():
	case err := <-served:
		result = failure("serve: %w", err)
	case <-srv.Done():
		if opts.KeepAliveOnEngineDeath {
			select {
			case <-ctx.Done():
			case err := <-served:
				result = failure("serve: %w", err)
			}
		} else {
			log.api("ERROR", "launcher.py:101", "Engine failed, terminating server.")
			result = &ExitError{Code: ExitFailure, Err: srv.Err()}
		}
	}
	return shutdownLog(log, func() {
		// Stop accepting, let requests in flight finish for a grace
		// period, then stop the engine (failing whatever is left).
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			srv.Close()
			hs.Close()
		}
		srv.Close()
	}, result)
}

// statsInterval is how often vLLM logs its engine throughput line.
const statsInterval = 10 * time.Second

// logStats logs vLLM's periodic "Engine 000: Avg prompt throughput …" line
// while there is activity, until ctx ends or the engine dies.
func logStats(ctx context.Context, srv *Server, log *logger) {
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	var prev Stats
	for {
		select {
		case <-ctx.Done():
			return
		case <-srv.Done():
			return
		case <-t.C:
		}
		st := srv.stats.totals(srv.eng)
		running, waiting := srv.eng.nRunning.Load(), srv.eng.nWaiting.Load()
		if st.PromptTokens == prev.PromptTokens && st.GenerationTokens == prev.GenerationTokens && running == 0 && waiting == 0 {
			continue
		}
		secs := statsInterval.Seconds()
		hit := 0.0
		if q := st.PromptTokens - prev.PromptTokens; q > 0 && srv.opts.PrefixCaching {
			hit = 100 * float64(st.CachedTokens-prev.CachedTokens) / float64(q)
		}
		log.api("INFO", "loggers.py:123", "Engine 000: Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s, Running: %d reqs, Waiting: %d reqs, GPU KV cache usage: %.1f%%, Prefix cache hit rate: %.1f%%",
			float64(st.PromptTokens-prev.PromptTokens)/secs, float64(st.GenerationTokens-prev.GenerationTokens)/secs,
			running, waiting, 100*min(1, float64(srv.eng.kvUsed.Load())/float64(srv.eng.blocks)), hit)
		prev = st
	}
}

// shutdownGrace bounds how long a shutdown waits for requests in flight.
const shutdownGrace = 5 * time.Second

// shutdownLog logs uvicorn's shutdown, runs stop, and returns the first
// non-nil result (nil for a clean shutdown).
func shutdownLog(log *logger, stop func(), result ...error) error {
	log.uvicorn("Shutting down")
	if stop != nil {
		stop()
	}
	log.uvicorn("Waiting for application shutdown.")
	log.uvicorn("Application shutdown complete.")
	for _, err := range result {
		if err != nil {
			return err
		}
	}
	return nil
}

// engineFailed logs an EngineCore startup failure as vLLM does and
// returns the exit error.
func engineFailed(log *logger, exception string) error {
	log.engine("ERROR", "core.py:718", "EngineCore failed to start.")
	log.traceback(true, []string{
		`File "/opt/vllm/vllm/v1/engine/core.py", line 709, in run_engine_core`,
		`File "/opt/vllm/vllm/v1/engine/core.py", line 505, in __init__`,
		`File "/opt/vllm_neuron/vllm_neuron/worker/neuronx_distributed_model_loader.py", line 612, in get_neuron_model`,
	}, exception)
	log.traceback(false, []string{`File "/opt/vllm/vllm/v1/engine/utils.py", line 783, in wait_for_engine_startup`},
		"RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}")
	return failure("engine core failed to start: %s", exception)
}

// compile logs and paces a cold compile of every graph of the ladder
// (NxD's ModelBuilder lines, package neuron).
func compile(st *startup, nc NeuronConfig) bool {
	lm, log, l := st.lat, st.log, nc.Buckets
	log.pylog("INFO", neuron.LoggerNeuron, "%s['context_encoding_model', 'token_generation_model']", neuron.MsgGeneratingHLOs)
	type shape struct{ a, b int }
	var cte, tkg []shape
	for _, v := range l.CTE {
		if !l.TwoD() {
			cte = append(cte, shape{1, v})
			continue
		}
		for _, h := range l.Prefix {
			cte = append(cte, shape{v, h})
		}
	}
	for _, b := range l.TKG {
		tkg = append(tkg, shape{1, b})
	}
	for _, part := range []struct {
		name   string
		shapes []shape
	}{{"context_encoding_model", cte}, {"token_generation_model", tkg}} {
		log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgGeneratingHLOsFor, len(part.shapes), part.name)
		for _, sh := range part.shapes {
			if !st.wait(lm.HLOPerBucket) {
				return false
			}
			log.pylog("INFO", neuron.LoggerNeuron, "Finished generating HLO for %s in %s seconds, input example shape = torch.Size([%d, %d])", part.name, pyFloat(lm.HLOPerBucket), sh.a, sh.b)
		}
	}
	n := l.Graphs()
	log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgGeneratedAllHLOs, pyFloat(float64(n)*lm.HLOPerBucket))
	log.pylog("INFO", neuron.LoggerNeuron, "%s", neuron.MsgPriorityCompile)
	log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgPriorityModel, "token_generation_model", 0)
	if !st.wait(lm.PriorityCompile) {
		return false
	}
	log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgPriorityCompileDone, pyFloat(lm.PriorityCompile))
	log.pylog("INFO", neuron.LoggerNeuron, "%s", neuron.MsgAllCompile)
	rest := float64(n-1) * lm.CompilePerBucket
	if !st.wait(rest) {
		return false
	}
	log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgFinishedAllCompilation, pyFloat(rest))
	log.pylog("INFO", neuron.LoggerNeuron, neuron.MsgFinishedBuilding, pyFloat(lm.Compile(n)))
	return true
}

// derivedRepr renders the keyword arguments a reload of neuron_config.json
// passes to NeuronConfig that the stack does not pop: its derived
// attributes, sorted (the JSON is saved with sort_keys=True). Only the keys
// are upstream facts; the values are representative.
func derivedRepr(st *neuron.Stack, nc NeuronConfig) string {
	keys := st.DerivedKeys()
	vals := make(map[string]any, len(keys))
	for _, k := range keys {
		switch k {
		case "skip_warmup":
			vals[k] = nc.SkipWarmup
		case "is_prefill_stage", "scratchpad_page_size":
			vals[k] = nil
		case "weights_to_skip_layout_optimization":
			vals[k] = []any{}
		default:
			vals[k] = false
		}
	}
	return pyReprOrdered(vals, keys)
}

// listenAddr is the address vLLM binds (all interfaces when --host is not
// given).
func listenAddr(o Options) string { return net.JoinHostPort(o.Host, strconv.Itoa(o.Port)) }

// nonDefaultArgs renders the "non-default args" dict vLLM logs.
func nonDefaultArgs(o Options) string {
	d := DefaultOptions(o.Model)
	m := map[string]any{"model_tag": o.Model}
	keys := []string{"model_tag"}
	add := func(k string, v any, changed bool) {
		if changed {
			m[k] = v
			keys = append(keys, k)
		}
	}
	add("host", o.Host, o.Host != d.Host)
	add("port", float64(o.Port), o.Port != d.Port)
	add("api_key", "<redacted>", o.APIKey != "")
	add("return_tokens_as_token_ids", true, o.ReturnTokensAsTokenIDs)
	add("model", o.Model, true)
	add("dtype", o.Dtype, o.Dtype != d.Dtype)
	add("seed", float64(o.Seed), o.Seed != 0)
	add("max_model_len", float64(o.MaxModelLen), o.MaxModelLen != d.MaxModelLen)
	add("served_model_name", anyList(o.ServedModelNames), len(o.ServedModelNames) > 0)
	add("tensor_parallel_size", float64(o.TensorParallelSize), o.TensorParallelSize != d.TensorParallelSize)
	add("block_size", float64(o.BlockSize), o.BlockSize != 0)
	add("enable_prefix_caching", o.PrefixCaching, o.PrefixCaching != d.PrefixCaching)
	add("num_gpu_blocks_override", float64(o.NumGPUBlocksOverride), o.NumGPUBlocksOverride != 0)
	add("max_num_batched_tokens", float64(o.MaxNumBatchedTokens), o.MaxNumBatchedTokens != 0)
	add("max_num_seqs", float64(o.MaxNumSeqs), o.MaxNumSeqs != d.MaxNumSeqs)
	add("max_logprobs", float64(o.MaxLogprobs), o.MaxLogprobs != d.MaxLogprobs)
	add("enable_chunked_prefill", o.EnableChunkedPrefill, o.EnableChunkedPrefill)
	if o.AdditionalConfig != "" {
		add("additional_config", additionalAny(o), true)
	}
	return pyReprOrdered(m, keys)
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func additionalAny(o Options) any {
	m := map[string]any{}
	if o.AdditionalConfig != "" {
		json.Unmarshal([]byte(o.AdditionalConfig), &m)
	}
	return m
}

// additionalRepr renders additional_config for the "No neuron overrides"
// line.
func additionalRepr(o Options) string { return pyRepr(additionalAny(o)) }
