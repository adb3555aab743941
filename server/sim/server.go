package sim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"loadgen/server/neuron"
)

// Server is a simulated vllm-neuron server after startup: the engine and
// the OpenAI-compatible API. Build one with New (in-process, no startup
// delay) or let Main run the whole startup sequence.
type Server struct {
	opts    Options
	cfg     resolved
	names   map[string]bool
	model   string // first served name (metrics label, response "model")
	created int64
	eng     *engine
	met     *metrics
	stats   *statsRecorder
	log     *logger
	mux     *http.ServeMux

	faultMu  sync.Mutex
	faultRNG *rand.Rand
	arrivals atomic.Int64
	idSeq    atomic.Uint64
	idSalt   uint64

	deadOnce  sync.Once
	dead      chan struct{}
	exception string // what killed the engine (set before dead closes)

	closeOnce sync.Once
	done      chan struct{} // engine goroutine ended
}

// New builds a ready server from opts: the vLLM and Neuron configuration
// is resolved as the plugin would (an invalid one is an error carrying the
// exception vLLM would raise), and the engine starts. It does not listen,
// compile, take NeuronCore locks or write artifacts; Main does. Call Close
// when done.
func New(opts Options) (*Server, error) {
	if opts.Latency == (LatencyModel{}) {
		opts.Latency = DefaultLatency
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cfg, err := resolveConfig(opts)
	if err == nil {
		err = kShapeError(cfg.Neuron)
	}
	if err != nil {
		return nil, fmt.Errorf("engine core failed to start: %w", err)
	}
	return newServer(opts, cfg, newLogger(nil, nil)), nil
}

func newServer(opts Options, cfg resolved, log *logger) *Server {
	s := &Server{
		opts:     opts,
		cfg:      cfg,
		names:    map[string]bool{},
		created:  time.Now().Unix(),
		met:      newMetrics(opts.MaxModelLen),
		stats:    newStatsRecorder(opts.StatsCap),
		log:      log,
		faultRNG: rand.New(rand.NewPCG(uint64(opts.SimSeed), 0xfa17)),
		idSalt:   splitmix64(uint64(opts.SimSeed) ^ uint64(time.Now().UnixNano())),
		dead:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, n := range opts.ServedNames() {
		s.names[n] = true
	}
	s.model = opts.ServedNames()[0]
	s.eng = newEngine(s)
	s.eng.onDeath = s.die
	s.eng.onAbort = s.abortSeq
	s.mux = s.routes()
	go func() {
		defer close(s.done)
		if !s.eng.zero {
			s.eng.run()
		}
	}()
	return s
}

// Handler returns the OpenAI-compatible API (usable with httptest).
func (s *Server) Handler() http.Handler { return s.mux }

// Stats returns a copy of the simulator's own record of what it served.
func (s *Server) Stats() Stats { return s.stats.snapshot(s.eng) }

// Neuron returns the effective Neuron configuration the server runs with.
func (s *Server) Neuron() NeuronConfig { return s.cfg.Neuron }

// Done is closed when the simulated engine has died (a prompt longer than
// the largest bucket, --sim-crash-after); Err then says why.
func (s *Server) Done() <-chan struct{} { return s.dead }

// Err returns nil while the engine is alive, and an error wrapping
// ErrEngineDead with the exception that killed it afterwards.
func (s *Server) Err() error {
	select {
	case <-s.dead:
		return fmt.Errorf("%w: %s", ErrEngineDead, s.exception)
	default:
		return nil
	}
}

// Close stops the engine; requests in flight fail. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.eng.halt()
		<-s.done
	})
}

func (s *Server) alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return true
	}
}

// die records the engine's death and logs it as vLLM does.
func (s *Server) die(exception string) {
	s.deadOnce.Do(func() {
		s.exception = exception
		s.log.engine("ERROR", "core.py:710", neuron.MsgEngineFatal)
		s.log.traceback(true, []string{
			`File "/opt/vllm/vllm/v1/engine/core.py", line 701, in run_engine_core`,
			`File "/opt/vllm/vllm/v1/engine/core.py", line 728, in run_busy_loop`,
			`File "/opt/vllm/vllm/v1/engine/core.py", line 294, in step`,
			`File "/opt/vllm_neuron/vllm_neuron/worker/neuronx_distributed_model_runner.py", line 642, in execute_model`,
			`File "/opt/neuronx_distributed_inference/models/model_wrapper.py", line 1187, in forward`,
		}, exception)
		s.log.api("ERROR", "async_llm.py:485", "AsyncLLM output_handler failed.")
		s.log.traceback(false, []string{
			`File "/opt/vllm/vllm/v1/engine/async_llm.py", line 444, in output_handler`,
		}, "vllm.v1.engine.exceptions.EngineDeadError: "+EngineDeadMessage)
		close(s.dead)
		s.eng.halt()
	})
}

// nextID returns a request id in vLLM's shape (32 hex digits, as
// uuid4().hex), unique within the process.
func (s *Server) nextID() string {
	n := s.idSeq.Add(1)
	a := splitmix64(s.idSalt + n)
	b := splitmix64(a ^ n)
	var buf [32]byte
	const hex = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		buf[i] = hex[(a>>(4*i))&15]
		buf[16+i] = hex[(b>>(4*i))&15]
	}
	return string(buf[:])
}

// faults decides the injected faults of one arriving request, in arrival
// order from the seeded source.
type faults struct {
	err, streamErr, drop bool
	slow                 float64
	errAt                float64 // where in the stream the error lands, [0,1)
}

func (s *Server) drawFaults() faults {
	o := s.opts
	f := faults{slow: 1}
	if o.ErrorRate == 0 && o.StreamErrorRate == 0 && o.SlowRate == 0 && o.DropRate == 0 {
		return f
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f.err = s.faultRNG.Float64() < o.ErrorRate
	f.streamErr = s.faultRNG.Float64() < o.StreamErrorRate
	f.errAt = s.faultRNG.Float64()
	if s.faultRNG.Float64() < o.SlowRate {
		f.slow = o.SlowFactor
	}
	f.drop = s.faultRNG.Float64() < o.DropRate
	return f
}

func (s *Server) countFault(kind string) {
	s.stats.add(func(st *Stats) { st.Faults[kind]++ })
}

// cacheInfo is the label set of vllm:cache_config_info.
func (s *Server) cacheInfo() [][2]string {
	return [][2]string{
		{"block_size", strconv.Itoa(s.cfg.BlockSize)},
		{"cache_dtype", "auto"},
		{"enable_prefix_caching", pyBool(s.opts.PrefixCaching)},
		{"num_gpu_blocks", strconv.Itoa(s.cfg.NumBlocks)},
		{"num_gpu_blocks_override", optInt(s.opts.NumGPUBlocksOverride, s.cfg.NumBlocks)},
		{"engine", "0"},
	}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func optInt(given, effective int) string {
	if given == 0 {
		return "None"
	}
	return strconv.Itoa(effective)
}
