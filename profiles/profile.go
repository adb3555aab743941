package profiles

import (
	"io/fs"
	"reflect"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// Profile is one sweep definition: the model and server to launch, the
// settings of every configuration (base, named configs, matrix), the
// workload and the load phases run against each configuration.
//
// Load and Parse return a resolved Profile: defaults filled in, relative
// paths made absolute, per-phase SLOs merged. Its JSON form (snake_case)
// is what the sweep embeds in manifest.json.
type Profile struct {
	// Path is the file the profile was read from ("shipped:rerank.yaml"
	// for a profile embedded in the binary). Not part of Hash.
	Path string `yaml:"-" json:"path"`
	// Name names the sweep (results/<name>-<time>/); it defaults to the
	// file name without extension. Filesystem-safe.
	Name string `yaml:"name" json:"name"`
	// Description is free text shown in dry runs and reports.
	Description string `yaml:"description" json:"description,omitempty"`
	// Model is the positional `vllm serve MODEL`: a local directory
	// (recommended on Neuron) or a Hugging Face id. A path starting with
	// ./ or ../ is resolved relative to the profile file.
	Model string `yaml:"model" json:"model"`
	// ServedModelName is --served-model-name and the "model" of every
	// request; it defaults to Model.
	ServedModelName string `yaml:"served_model_name" json:"served_model_name"`
	// TensorParallelSize is --tensor-parallel-size (default 1).
	TensorParallelSize int `yaml:"tensor_parallel_size" json:"tensor_parallel_size"`
	// Server says how to launch (or where to find) the server.
	Server Server `yaml:"server" json:"server"`
	// Base holds the settings every configuration starts from.
	Base Settings `yaml:"base" json:"base"`
	// Configs are named overrides of Base, run in this order.
	Configs []NamedSettings `yaml:"configs" json:"configs,omitempty"`
	// Matrix generates one configuration per combination of its values,
	// after Configs.
	Matrix *Matrix `yaml:"matrix" json:"matrix,omitempty"`
	// Workload says what each query sends.
	Workload Workload `yaml:"workload" json:"workload"`
	// Load lists the phases run, in order, against every configuration.
	// An empty list means one sync pass over the dataset.
	Load []Phase `yaml:"load" json:"load"`
	// SLO holds the goodput thresholds for every phase; a phase's own slo
	// overrides it key by key (the resolved value is in each Phase.SLO).
	SLO *SLO `yaml:"slo" json:"slo,omitempty"`

	prob *problems // positions of the keys, for messages after Load
	fsys fs.FS     // where the profile came from; nil for the OS
	dir  string    // directory that relative paths are resolved against
}

// Server describes how the server of every configuration is launched.
type Server struct {
	// Command is the program and leading arguments; the model and flags
	// follow it. Default "vllm serve". A string is split at spaces.
	Command Command `yaml:"command" json:"command"`
	// Host and Port are --host and --port, and where readiness is probed.
	// Defaults 127.0.0.1 and 8000.
	Host string `yaml:"host" json:"host"`
	Port int    `yaml:"port" json:"port"`
	// Dtype is --dtype (default bfloat16; the Neuron kernels need bf16).
	Dtype string `yaml:"dtype" json:"dtype"`
	// ReadyTimeout bounds the wait for readiness; a first Neuron compile
	// takes 10–30 minutes. Default server.DefaultReadyTimeout (90m).
	ReadyTimeout Duration `yaml:"ready_timeout" json:"ready_timeout"`
	// StopGrace is the time between SIGTERM and SIGKILL (default 30s).
	StopGrace Duration `yaml:"stop_grace" json:"stop_grace"`
	// Env is set in the server's environment for every configuration.
	Env map[string]string `yaml:"env" json:"env,omitempty"`
	// VLLMArgs are extra arguments appended for every configuration.
	VLLMArgs []string `yaml:"vllm_args" json:"vllm_args,omitempty"`
	// NeuronCores becomes NEURON_RT_VISIBLE_CORES ("0-1", "2", "0,1"); a
	// list of groups (["0-1", "2-3"]) runs up to that many configurations
	// at once, each on a free group.
	NeuronCores CoreGroups `yaml:"neuron_cores" json:"neuron_cores,omitempty"`
	// Measure says how configurations on several core groups are measured:
	// MeasureConcurrent (default) or MeasureSerial.
	Measure string `yaml:"measure" json:"measure,omitempty"`
	// CompiledArtifacts is the root under which every configuration gets
	// its NEURON_COMPILED_ARTIFACTS directory <root>/<config>-<hash>.
	// Default DefaultArtifactsRoot; relative to the profile file.
	CompiledArtifacts string `yaml:"compiled_artifacts" json:"compiled_artifacts"`
	// APIKeyEnv names an environment variable holding the API key. A
	// launched server gets it as VLLM_API_KEY; requests and probes send
	// it as a bearer token.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// URL names a server somebody else runs: nothing is launched, and the
	// settings only describe it (they are still checked).
	URL string `yaml:"url" json:"url,omitempty"`
	// Stack names the vllm-neuron stack whose rules apply (package
	// neuron: "2.26", "2.27"); "" or "auto" lets the sweep detect it from
	// the environment of the vllm on PATH.
	Stack string `yaml:"stack" json:"stack,omitempty"`
}

// NamedSettings is one entry of configs: a name and the settings that
// override Base.
type NamedSettings struct {
	Name     string `yaml:"name" json:"name"`
	Settings `yaml:",inline"`
}

// Matrix generates configurations from the Cartesian product of lists of
// setting values (first key outermost, values in the order written).
type Matrix struct {
	// Name is a template for the generated names: "{key}" is replaced by
	// the label of that key's value (true → on, false → off, lists joined
	// with "_", maps by their 1-based position). The default joins
	// "<short>_on|off" for booleans and "<short><value>" otherwise with
	// "-", e.g. cache_on-bucketing_off or seqs8-cte512_1024_2048.
	Name string `yaml:"name" json:"name,omitempty"`
	// Axes are the varied settings, in the order written.
	Axes []Axis `yaml:"-" json:"axes"`
}

// Axis is one varied setting of a Matrix.
type Axis struct {
	Key    string `json:"key"`
	Values []any  `json:"values"`

	settings []Settings // each with only Key set
	labels   []string
	lines    []int
}

// Workload says what each arrival (query) sends.
type Workload struct {
	// Dataset is the dataset file, resolved to an absolute path (or
	// "shipped:<path>" for the shipped profiles); read it with Open.
	Dataset string `yaml:"dataset" json:"dataset,omitempty"`
	// Format is csv (the offline benchmark's query,answer_0..), jsonl
	// ({"query","documents","relevant"}) or synthetic; by default it
	// follows the dataset's extension.
	Format string `yaml:"format" json:"format"`
	// SearchNum is the number of documents scored per query (default 20).
	SearchNum int `yaml:"search_num" json:"search_num,omitempty"`
	// TopN is how many ranked documents a query keeps (default 6).
	TopN int `yaml:"top_n" json:"top_n,omitempty"`
	// BatchSize is the number of prompts per completion request: a query
	// becomes ceil(search_num/batch_size) requests (default 8).
	BatchSize int `yaml:"batch_size" json:"batch_size,omitempty"`
	// MaxLength is the token budget of one prompt, prefix and suffix
	// included (default 1500).
	MaxLength int `yaml:"max_length" json:"max_length,omitempty"`
	// Instruction fills <Instruct> (default DefaultInstruction).
	Instruction string `yaml:"instruction" json:"instruction,omitempty"`
	// MaxTokens is max_tokens of each request (default 1; for synthetic
	// workloads it is synthetic.output_len).
	MaxTokens int `yaml:"max_tokens" json:"max_tokens"`
	// Logprobs is logprobs of each request (default 20 for rerank, 0 for
	// synthetic).
	Logprobs int `yaml:"logprobs" json:"logprobs"`
	// ShortRows says what to do with a row that has fewer documents than
	// search_num: error (default), pad or skip.
	ShortRows string `yaml:"short_rows" json:"short_rows,omitempty"`
	// YesTokenID and NoTokenID override the ids of "yes" and "no"; 0 asks
	// the server's tokenizer, falling back to 9693 and 2152.
	YesTokenID int `yaml:"yes_token_id" json:"yes_token_id,omitempty"`
	NoTokenID  int `yaml:"no_token_id" json:"no_token_id,omitempty"`
	// Truncation is auto (server /tokenize when available, else chars),
	// tokenize or chars.
	Truncation string `yaml:"truncation" json:"truncation,omitempty"`
	// ExtraBody is merged into every request body (vLLM-only fields).
	ExtraBody map[string]any `yaml:"extra_body" json:"extra_body,omitempty"`
	// Synthetic configures format: synthetic.
	Synthetic *Synthetic `yaml:"synthetic" json:"synthetic,omitempty"`
	// MaxFieldSize, MaxRowSize and MaxDecompressedSize bound a field of
	// the dataset (a query or a document), a row (a CSV record, a JSONL
	// line) and what a gzipped dataset decompresses to. Zero (unset)
	// takes workload.DefaultMaxFieldBytes, DefaultMaxRowBytes and
	// DefaultMaxDecompressedBytes; unset, they leave Hash as it was.
	MaxFieldSize        ByteSize `yaml:"max_field_size" json:"max_field_size,omitempty"`
	MaxRowSize          ByteSize `yaml:"max_row_size" json:"max_row_size,omitempty"`
	MaxDecompressedSize ByteSize `yaml:"max_decompressed_size" json:"max_decompressed_size,omitempty"`

	fsys fs.FS  // nil: Dataset is an OS path
	name string // path of the dataset inside fsys
}

// Synthetic configures plain-generation load with random prompts.
type Synthetic struct {
	// InputLen is the mean prompt length in tokens (default 512).
	InputLen int `yaml:"input_len" json:"input_len"`
	// InputLenRange spreads prompt lengths uniformly over
	// [input_len·(1−r), input_len·(1+r)], as vLLM's --random-range-ratio
	// (0 ≤ r < 1, default 0).
	InputLenRange float64 `yaml:"input_len_range" json:"input_len_range"`
	// OutputLen is max_tokens of every request (default 128).
	OutputLen int `yaml:"output_len" json:"output_len"`
}

// Phase is one load phase run against every configuration.
type Phase struct {
	// Name is unique and filesystem-safe (<config>/<phase>.json); it
	// defaults to one derived from the arrival: sync, poisson-2,
	// poisson-75pct, gamma-2-b0.5, constant-1, inf-c8, poisson-ramp-1-4,
	// poisson-search.
	Name string `yaml:"name" json:"name"`
	// Arrival is poisson, gamma, constant, sync or inf.
	Arrival string `yaml:"arrival" json:"arrival"`
	// Rate is the target arrival rate in queries/s (+Inf for inf; 0 for
	// sync, ramps and searches), or a share of the configuration's
	// capacity ("75%") measured by the earlier inf phase Capacity.
	Rate RateValue `yaml:"rate" json:"rate"`
	// Burstiness is the gamma shape (default 1; only for gamma).
	Burstiness float64 `yaml:"burstiness" json:"burstiness"`
	// MaxConcurrency caps the requests in flight (0 = no cap; a query is
	// ceil(search_num/batch_size) requests, as vLLM counts --max-concurrency); required by
	// inf.
	MaxConcurrency int `yaml:"max_concurrency" json:"max_concurrency,omitempty"`
	// Queries and Duration end the phase; exactly one is set, except that
	// a sync phase with neither makes one pass over the dataset (OnePass).
	Queries  int      `yaml:"queries" json:"queries,omitempty"`
	Duration Duration `yaml:"duration" json:"duration,omitempty"`
	// Warmup queries are sent first and left out of the results.
	Warmup int `yaml:"warmup" json:"warmup,omitempty"`
	// Seed seeds the arrival schedule (and synthetic prompts).
	Seed int64 `yaml:"seed" json:"seed"`
	// Ramp changes the rate over the phase instead of Rate.
	Ramp *Ramp `yaml:"ramp" json:"ramp,omitempty"`
	// Search makes the phase a search for the highest rate at which an
	// SLO holds: a series of constant-rate trials, each with the phase's
	// arrival, queries or duration and seed.
	Search *Search `yaml:"search" json:"search,omitempty"`
	// SaturationStop stops the phase (or each trial of a search) early
	// once it is clearly past capacity; default true in a search, false
	// elsewhere; only for poisson, gamma and constant.
	SaturationStop bool `yaml:"saturation_stop" json:"saturation_stop,omitempty"`
	// Capacity names the earlier inf phase whose measured capacity the
	// phase's relative rates (and its search's default upper bound) are
	// shares of; set by the resolver.
	Capacity string `yaml:"-" json:"capacity_phase,omitempty"`
	// RequestTimeout bounds each request (default 5m).
	RequestTimeout Duration `yaml:"request_timeout" json:"request_timeout"`
	// SLO is the resolved goodput thresholds (profile slo, then the
	// phase's own keys); nil when neither sets any.
	SLO *SLO `yaml:"slo" json:"slo,omitempty"`
	// Clients splits the phase's load across this many clients, each
	// sending its share (SplitPhase); the phase result merges them exactly.
	// 0 or 1: one client.
	Clients int `yaml:"clients" json:"clients,omitempty"`
}

// Ramp changes the arrival rate from From to To over the phase; either
// end may be a share of capacity ("25%").
type Ramp struct {
	Strategy string    `yaml:"strategy" json:"strategy"` // linear or exponential
	From     RateValue `yaml:"from" json:"from"`
	To       RateValue `yaml:"to" json:"to"`
}

// Relative reports whether either end of the ramp is a share of capacity.
func (r *Ramp) Relative() bool { return r != nil && (r.From.Relative() || r.To.Relative()) }

// Search is a phase's search for its configuration's capacity at an SLO:
// the highest constant arrival rate at which the Percentile of Metric
// stays within Max and at most MaxFailed of the queries fail, found within
// Tolerance between Lower and Upper in at most MaxTrials trials and
// MaxTime.
type Search struct {
	// Metric is query_latency (default), ttft or e2el.
	Metric string `yaml:"metric" json:"metric"`
	// Percentile is 50, 90, 95, 99 (default) or 99.9.
	Percentile float64 `yaml:"percentile" json:"percentile"`
	// Max is the SLO's threshold; default the phase's slo for Metric.
	Max Duration `yaml:"max" json:"max"`
	// MaxFailed is the share of a trial's queries that may fail (1%).
	MaxFailed Percent `yaml:"max_failed" json:"max_failed"`
	// Tolerance is the relative width at which the bracket is closed (5%).
	Tolerance Percent `yaml:"tolerance" json:"tolerance"`
	// MaxTrials bounds the trials (8), MaxTime the search's time (30m).
	MaxTrials int      `yaml:"max_trials" json:"max_trials"`
	MaxTime   Duration `yaml:"max_time" json:"max_time"`
	// Lower is the lowest rate tried (0: down to Tolerance × Upper).
	Lower RateValue `yaml:"lower" json:"lower"`
	// Upper is the highest rate searched; unset, it is the capacity of
	// the earlier inf phase (Phase.Capacity), or else measured by a probe
	// trial at rate inf with ProbeConcurrency requests in flight.
	Upper            RateValue `yaml:"upper" json:"upper"`
	ProbeConcurrency int       `yaml:"probe_concurrency" json:"probe_concurrency,omitempty"`
	// Unloaded names the earlier sync phase whose latency (no load)
	// seeds the first guess; set by the resolver.
	Unloaded string `yaml:"-" json:"unloaded_phase,omitempty"`
}

// SLO holds goodput thresholds; a zero field is not checked. A request (or
// query) counts toward goodput when it meets every threshold set.
type SLO struct {
	TTFT         Duration `yaml:"ttft" json:"ttft,omitempty"`
	E2EL         Duration `yaml:"e2el" json:"e2el,omitempty"`
	QueryLatency Duration `yaml:"query_latency" json:"query_latency,omitempty"`
}

// The vocabularies of phases and workloads are the engine's and the
// workload package's own, so a profile value always means what the package
// that runs it means.

// Arrival processes.
const (
	ArrivalPoisson  = schema.ArrivalPoisson
	ArrivalGamma    = schema.ArrivalGamma
	ArrivalConstant = schema.ArrivalConstant
	ArrivalSync     = schema.ArrivalSync
	ArrivalInf      = schema.ArrivalInf
)

// Workload formats.
const (
	FormatCSV       = workload.FormatCSV
	FormatJSONL     = workload.FormatJSONL
	FormatSynthetic = "synthetic"
)

// Short-row policies.
const (
	ShortRowsError = workload.ShortRowsError
	ShortRowsPad   = workload.ShortRowsPad
	ShortRowsSkip  = workload.ShortRowsSkip
)

// Truncation methods.
const (
	TruncationAuto     = workload.TruncationAuto
	TruncationTokenize = workload.TruncationTokenize
	TruncationChars    = workload.TruncationChars
)

// Ramp strategies.
const (
	RampLinear      = schema.RampLinear
	RampExponential = schema.RampExponential
)

// OnePass reports whether the phase makes one pass over the dataset (a
// sync phase with neither queries nor duration).
func (ph Phase) OnePass() bool { return ph.Queries == 0 && ph.Duration == 0 }

// IsSynthetic reports whether the workload is synthetic generation load.
func (w Workload) IsSynthetic() bool { return w.Format == FormatSynthetic }

// Phase returns the phase with the given name.
func (p *Profile) Phase(name string) (Phase, bool) {
	for _, ph := range p.Load {
		if ph.Name == name {
			return ph, true
		}
	}
	return Phase{}, false
}

// sections maps each section's key names to where they belong, for
// "unknown key here; it belongs under …" messages.
var sections = []struct {
	t    reflect.Type
	home string
}{
	{reflect.TypeOf(Profile{}), "the top level"},
	{reflect.TypeOf(Settings{}), "base: (or a config)"},
	{reflect.TypeOf(Server{}), "server:"},
	{reflect.TypeOf(Workload{}), "workload:"},
	{reflect.TypeOf(Synthetic{}), "workload.synthetic:"},
	{reflect.TypeOf(Phase{}), "a load: phase"},
	{reflect.TypeOf(Search{}), "a load: phase's search:"},
	{reflect.TypeOf(SLO{}), "slo:"},
}

// keyHome returns where a key belongs when it is a key of exactly one
// section ("" otherwise).
func keyHome(key string) string {
	home := ""
	for _, s := range sections {
		for _, k := range fieldNames(s.t) {
			if k == key {
				if home != "" {
					return ""
				}
				home = s.home
			}
		}
	}
	return home
}
