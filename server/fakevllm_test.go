package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The test binary doubles as a fake `vllm serve` (the os/exec
// helper-process pattern): TestMain runs fakeVLLM instead of the tests
// when fakeEnv is set, and the value picks a behaviour.
const (
	fakeEnv     = "LOADGEN_FAKE_VLLM"
	fakeLines   = "FAKE_VLLM_LINES"    // lines "exit" prints before it exits
	fakeGate    = "FAKE_VLLM_GATE"     // "gated" waits for this file before it compiles
	fakePIDFile = "FAKE_VLLM_PIDFILE"  // "grandchild" writes its child's pid here
	fakeDeath   = "FAKE_LOADGEN_DEATH" // how "launcher" dies: deathPanic, deathExit, deathKilled
	fakeShell   = "FAKE_LOADGEN_SHELL" // "launcher" runs watchdogs with this shell
)

// How a fake loadgen ("launcher") dies once its server is ready.
const (
	deathPanic  = "panic"  // a goroutine other than main panics
	deathExit   = "exit"   // os.Exit without Stop or KillAll
	deathKilled = "killed" // it waits for the test's SIGKILL
)

// Fake behaviours.
const (
	modeReady      = "ready"       // cold start, then serves until SIGTERM
	modeGated      = "gated"       // like ready, but waits for a gate file while compiling
	modeExit       = "exit"        // prints startup lines and FAKE_VLLM_LINES, exits 1
	modeExitPlain  = "exit-plain"  // prints startup lines, exits 3 with no known cause
	modeNever      = "never"       // compiles forever, never listens
	modeFatalHang  = "fatal-hang"  // logs cores busy but keeps running
	modeIgnoreTerm = "ignore-term" // ready, ignores SIGTERM
	modeGrandchild = "grandchild"  // ready, with a child that ignores SIGTERM
	modeSleeper    = "sleeper"     // the grandchild: ignores SIGTERM, sleeps
	modeCrash      = "crash"       // ready; the first completion kills it
	modeWarn       = "warn"        // cache hit with warnings that void the run
	modeWrongModel = "wrong-model" // ready, but serves another model name
	modeLauncher   = "launcher"    // loadgen itself: Starts a "grandchild" fake, then dies without Stop
)

// coldStart is a vllm-neuron cold start, up to the point
// where the API server starts listening.
var coldStart = []string{
	"INFO 11-05 20:20:44 [__init__.py:216] Platform plugin neuron is activated",
	"(APIServer pid=2200) INFO 11-05 20:20:46 [api_server.py:1818] vLLM API server version 0.11.0",
	"(APIServer pid=2200) INFO 11-05 20:20:46 [utils.py:328] non-default args: {'model': '/models/Qwen3-Reranker-0.6B', 'max_model_len': 2048}",
	"(EngineCore_DP0 pid=2215) INFO 11-05 20:20:52 [core.py:77] Initializing a V1 LLM engine (v0.11.0) with config: model='/models/Qwen3-Reranker-0.6B'",
	"INFO:vllm_neuron.platform:The custom Neuron scheduler will disable chunked prefill",
	"INFO:vllm_neuron.worker.neuronx_distributed_model_loader:Retrieved override_neuron_config from additional_config: {'on_device_sampling_config': None}",
	"WARNING:vllm_neuron.worker.neuronx_distributed_model_loader:Unable to find precompiled artifacts from /data/neuron-cache/3f2a. Recompiling...",
	"INFO:Neuron:Generating HLOs for the following models: ['context_encoding_model', 'token_generation_model']",
	"INFO:Neuron:Starting compilation for the priority HLO",
	"2025-11-05 20:21:30.000212:  2258  INFO ||NEURON_CC_WRAPPER||: Call compiler with cmd: neuronx-cc compile --framework=XLA --logfile=/tmp/nxd_model/context_encoding_model/_tp0_bk0/log-neuron-cc.txt",
	".Completed run_backend_driver.",
	"Compiler status PASS",
	"INFO:Neuron:Done compilation for the priority HLO in 46.2 seconds",
	"INFO:Neuron:Starting compilation for all HLOs",
	"INFO:Neuron:Finished Compilation for all HLOs in 7.9 seconds",
	"INFO:Neuron:Finished building model in 72.1 seconds",
	"INFO:Neuron:Sharding weights on load...",
	"INFO:Neuron:Finished weights loading in 10.1 seconds",
	"INFO:Neuron:Warming up the model.",
	"INFO:Neuron:Warmup completed in 2.7 seconds.",
	"(EngineCore_DP0 pid=2215) INFO 11-05 20:23:01 [kv_cache_utils.py:864] GPU KV cache size: 1,048,576 tokens",
	"(APIServer pid=2200) INFO 11-05 20:23:03 [api_server.py:1971] Starting vLLM API server 0 on http://127.0.0.1:8000",
}

// gateAfter is the index in coldStart after which "gated" waits (it is
// then compiling).
const gateAfter = 9

// cachedStart is a start that reuses compiled artifacts, with both
// warnings that void the run.
var cachedStart = []string{
	"INFO 11-05 20:20:44 [__init__.py:216] Platform plugin neuron is activated",
	"(EngineCore_DP0 pid=2215) WARNING:root:NeuronConfig init: Unexpected keyword arguments: {'enable_buckting': True}",
	"INFO:vllm_neuron.worker.neuronx_distributed_model_loader:Successfully loaded pre-compiled model artifacts from /data/neuron-cache/3f2a",
	"WARNING:vllm_neuron.worker.neuronx_distributed_model_loader:Using pre-compiled artifacts, override_neuron_config will be ignored",
	"INFO:Neuron:Warming up the model.",
}

// fakeVLLM is the fake server's main; it returns the exit code.
func fakeVLLM(mode string, args []string) int {
	host, port, model := "127.0.0.1", 8000, "qwen3-reranker"
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--host":
			host = args[i+1]
		case "--port":
			port, _ = strconv.Atoi(args[i+1])
		case "--served-model-name":
			model = args[i+1]
		}
	}
	say := func(lines ...string) {
		for _, l := range lines {
			fmt.Fprintln(os.Stderr, l)
		}
	}
	fmt.Printf("fake vllm %s: FAKE_VALUE=%s inherited=%t\n", mode, os.Getenv("FAKE_VALUE"), os.Getenv("PATH") != "")
	switch mode {
	case modeExit:
		say(coldStart[:8]...)
		say(strings.Split(os.Getenv(fakeLines), "\n")...)
		return 1
	case modeExitPlain:
		say(coldStart[:4]...)
		say("Killed")
		return 3
	case modeNever:
		say(coldStart[:gateAfter]...)
		sleepForever()
	case modeFatalHang:
		say(coldStart[:4]...)
		say("2025-Nov-05 20:21:02.0888 2215:2215 ERROR  NRT:nrt_allocate_neuron_cores  NeuronCore(s) not available - Requested:nc0-nc1 Available:0")
		sleepForever()
	case modeLauncher:
		return launchAndDie(port, os.Getenv(fakeDeath))
	case modeSleeper:
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("sleeper up")
		sleepForever()
	case modeGated:
		say(coldStart[:gateAfter]...)
		for {
			if _, err := os.Stat(os.Getenv(fakeGate)); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		say(coldStart[gateAfter:]...)
	case modeWarn:
		say(cachedStart...)
	default:
		say(coldStart...)
	}
	switch mode {
	case modeIgnoreTerm:
		signal.Ignore(syscall.SIGTERM)
	case modeGrandchild:
		if err := spawnSleeper(); err != nil {
			say("spawn: " + err.Error())
			return 1
		}
	case modeWrongModel:
		model = "some-other-model"
	}
	return fakeServe(net.JoinHostPort(host, strconv.Itoa(port)), model, mode, say)
}

// spawnSleeper starts a grandchild in our process group and records its
// pid.
func spawnSleeper() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fakeEnv+"="+modeSleeper)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	return os.WriteFile(os.Getenv(fakePIDFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

// sleepForever blocks until a signal ends the process.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// fakeServe serves vLLM's readiness endpoints until SIGTERM (which
// modeIgnoreTerm ignores). /health answers 503 twice before 200, as a
// server whose engine is still coming up. In modeCrash the first
// completion request kills the server, once its 500 is sent, the way a
// prompt longer than the largest bucket does on Neuron.
func fakeServe(addr, model, mode string, say func(...string)) int {
	crash := mode == modeCrash
	l, err := net.Listen("tcp", addr)
	if err != nil {
		say("(APIServer pid=2200) OSError: [Errno 98] Address already in use")
		return 1
	}
	var healthCalls atomic.Int32
	dying := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if healthCalls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": []map[string]any{
			{"id": model, "object": "model", "owned_by": "vllm", "root": "/models/Qwen3-Reranker-0.6B", "parent": nil, "max_model_len": 2048},
		}})
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"version":"0.11.0"}`)
	})
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, _ *http.Request) {
		if !crash {
			w.WriteHeader(http.StatusNotImplemented)
			return
		}
		say("(EngineCore_DP0 pid=2215) ERROR 11-05 20:30:12 [core.py:710] ValueError: Input len 3000 exceeds largest bucket (2048) for context_encoding_model",
			"(APIServer pid=2200) ERROR 11-05 20:30:12 [async_llm.py:480] AsyncLLM output_handler failed.",
			"(APIServer pid=2200) vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"EngineCore encountered an issue","type":"InternalServerError","code":500}}`)
		close(dying)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	say("(APIServer pid=2200) INFO:     Started server process [2200]",
		"(APIServer pid=2200) INFO:     Waiting for application startup.",
		"(APIServer pid=2200) INFO:     Application startup complete.")
	term := make(chan os.Signal, 1)
	if mode != modeIgnoreTerm {
		signal.Notify(term, syscall.SIGTERM)
	}
	select {
	case <-term:
		say("(APIServer pid=2200) INFO:     Shutting down")
		return 0
	case <-dying:
		// Shutdown returns once the crashing request's handler has
		// returned and its 500 is written out (the connection went
		// idle), so the client always gets it before the exit.
		_ = srv.Shutdown(context.Background())
		return 1
	}
}

// launchAndDie plays a loadgen that dies without running any cleanup: it
// starts a "grandchild" fake server through Start, waits until it is
// ready (and silent, so that no write to the dead log pipe kills it with
// SIGPIPE), prints "pids <server> <grandchild> <watchdog>" and dies the
// way death says. Only the watchdog (and Pdeathsig, for the server alone)
// can take the group down with it.
func launchAndDie(port int, death string) int {
	exe, err := os.Executable()
	if err != nil {
		return 2
	}
	if sh := os.Getenv(fakeShell); sh != "" {
		watchdogShell = sh
	}
	p, err := new(Owner).Start(context.Background(), Config{
		Argv:         []string{exe, "--port", strconv.Itoa(port)},
		Env:          []string{fakeEnv + "=" + modeGrandchild},
		Port:         port,
		ServedModel:  "qwen3-reranker",
		ReadyTimeout: time.Minute,
	})
	if err == nil {
		err = p.WaitReady(context.Background(), nil)
	}
	if err != nil {
		fmt.Println(err)
		return 2
	}
	b, err := os.ReadFile(os.Getenv(fakePIDFile))
	if err != nil {
		fmt.Println(err)
		return 2
	}
	fmt.Printf("pids %d %s %d\n", p.PID(), strings.TrimSpace(string(b)), p.wd.pid())
	switch death {
	case deathPanic:
		go func() { panic("fake loadgen: panic in a goroutine") }()
		select {}
	case deathKilled:
		sleepForever()
	}
	os.Exit(0)
	return 0
}
