package profiles

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"loadgen/server"
	"loadgen/server/neuron"
	"loadgen/workload"
)

// Defaults of the profile format, beyond those of package server.
const (
	// DefaultArtifactsRoot is where NEURON_COMPILED_ARTIFACTS directories
	// go when server.compiled_artifacts is not set: persistent across
	// reboots, like Neuron's own /var/tmp/neuron-compile-cache.
	DefaultArtifactsRoot = "/var/tmp/loadgen/compiled-artifacts"
	// DefaultInstruction is the offline benchmark's reranker instruction.
	DefaultInstruction = "Given a query about insurance, retrieve relevant passages that answer the query"
	// DefaultDtype is --dtype unless the profile says otherwise.
	DefaultDtype = "bfloat16"
	// DefaultRequestTimeout bounds each request of a phase.
	DefaultRequestTimeout = Duration(5 * time.Minute)
	// DefaultCommand is the server command the model and flags follow.
	DefaultCommand = "vllm serve"
	// StackAuto is server.stack's way of saying "detect the stack".
	StackAuto = "auto"
)

// Workload defaults: the offline benchmark's values.
const (
	DefaultSearchNum = 20
	DefaultTopN      = 6
	DefaultBatchSize = 8
	DefaultMaxLength = 1500
	DefaultLogprobs  = 20
	DefaultInputLen  = 512
	DefaultOutputLen = 128
)

// TensorParallelSizes are the TP degrees NxDI supports on Inferentia2.
var TensorParallelSizes = []int{1, 2, 4, 8, 24}

// trainiumOnlyTP are TP degrees valid on Trainium but not on Inferentia2.
var trainiumOnlyTP = []int{16, 32, 64}

var (
	safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// maxNameLen bounds config and phase names (they become file names).
const maxNameLen = 100

// checkName reports whether s is usable as a file name.
func checkName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > maxNameLen:
		return fmt.Errorf("%q is longer than %d characters", s, maxNameLen)
	case !safeName.MatchString(s):
		return fmt.Errorf("%q is not a safe file name: use letters, digits, '.', '_' and '-', starting with a letter or digit", s)
	}
	return nil
}

// defaults fills in every key the profile did not write, and checks the
// top-level, server and workload values.
func (p *Profile) defaults(file string) {
	pr := p.prob
	if !pr.has("name") {
		base := path.Base(filepath.ToSlash(file))
		p.Name = strings.TrimSuffix(base, path.Ext(base))
	}
	if err := checkName(p.Name); err != nil {
		pr.errorf("name", "%v (it names the results directory)", err)
	}
	if p.Model == "" && !(p.Server.URL != "" && p.ServedModelName != "") {
		pr.errorf("model", "required: the model directory to serve, e.g. /models/Qwen3-Reranker-0.6B")
	}
	if strings.HasPrefix(p.Model, "./") || strings.HasPrefix(p.Model, "../") {
		if p.fsys != nil {
			pr.errorf("model", "a shipped profile cannot use a relative model path")
		} else {
			p.Model = p.resolve(p.Model)
		}
	}
	if p.ServedModelName == "" {
		if pr.has("served_model_name") {
			pr.errorf("served_model_name", "must not be empty")
		}
		p.ServedModelName = p.Model
	}
	if !pr.has("tensor_parallel_size") {
		p.TensorParallelSize = 1
	}
	p.checkTP()
	p.serverDefaults()
	p.workloadDefaults()
	p.phaseDefaults()
}

func (p *Profile) checkTP() {
	tp := p.TensorParallelSize
	switch {
	case slices.Contains(TensorParallelSizes, tp):
	case slices.Contains(trainiumOnlyTP, tp):
		// Valid on Trainium; Expand warns.
	default:
		p.prob.errorf("tensor_parallel_size", "%d is not a TP degree NxDI supports on Inferentia2 (%s): use one of them, and make sure the model's attention heads divide by it",
			tp, joinInts(TensorParallelSizes, ", "))
	}
	for _, g := range p.Server.NeuronCores {
		if n := g.Count(); n < tp {
			what := "gives"
			if len(p.Server.NeuronCores) > 1 {
				what = "is a core group of"
			}
			p.prob.errorf("server.neuron_cores", "%q %s %d NeuronCore(s) but tensor_parallel_size is %d: the server would die with c10::Error; list %d cores (e.g. \"0-%d\")",
				g, what, n, tp, tp, tp-1)
		}
	}
}

func (p *Profile) serverDefaults() {
	pr, s := p.prob, &p.Server
	if !pr.has("server.command") {
		s.Command = strings.Fields(DefaultCommand)
	}
	if !pr.has("server.host") {
		s.Host = server.DefaultHost
	} else if s.Host == "" {
		pr.errorf("server.host", "must not be empty (the default is %s)", server.DefaultHost)
	}
	if !pr.has("server.port") {
		s.Port = server.DefaultPort
	} else if s.Port < 1 || s.Port > 65535 {
		pr.errorf("server.port", "%d is not a TCP port (1–65535)", s.Port)
	}
	if s.Measure != "" && s.Measure != MeasureConcurrent && s.Measure != MeasureSerial {
		pr.errorf("server.measure", "%q: want %s (the core groups' configurations are measured at once) or %s (they start at once and are measured one at a time)",
			s.Measure, MeasureConcurrent, MeasureSerial)
	}
	if !pr.has("server.dtype") {
		s.Dtype = DefaultDtype
	} else if !slices.Contains([]string{"auto", "half", "float16", "bfloat16", "float", "float32"}, s.Dtype) {
		pr.errorf("server.dtype", "%q is not a vLLM --dtype: use bfloat16 (the Neuron default), float16 or float32", s.Dtype)
	}
	if s.Stack != "" && s.Stack != StackAuto {
		if _, err := neuron.Lookup(s.Stack); err != nil {
			pr.errorf("server.stack", "%v, or %s to detect it", err, StackAuto)
		}
	}
	if !pr.has("server.ready_timeout") {
		s.ReadyTimeout = Duration(server.DefaultReadyTimeout)
	} else if s.ReadyTimeout <= 0 {
		pr.errorf("server.ready_timeout", "must be positive; a first Neuron compile takes 10–30 minutes (default %s)", server.DefaultReadyTimeout)
	}
	if !pr.has("server.stop_grace") {
		s.StopGrace = Duration(server.DefaultStopGrace)
	}
	if !pr.has("server.compiled_artifacts") {
		s.CompiledArtifacts = DefaultArtifactsRoot
	} else if s.CompiledArtifacts == "" {
		pr.errorf("server.compiled_artifacts", "must not be empty (the default is %s)", DefaultArtifactsRoot)
	} else if !filepath.IsAbs(s.CompiledArtifacts) {
		if p.fsys != nil {
			pr.errorf("server.compiled_artifacts", "a shipped profile needs an absolute path")
		} else {
			s.CompiledArtifacts = p.resolve(s.CompiledArtifacts)
		}
	}
	if s.APIKeyEnv != "" && !envName.MatchString(s.APIKeyEnv) {
		pr.errorf("server.api_key_env", "%q is not an environment variable name", s.APIKeyEnv)
	}
	checkEnv(pr, "server.env", s.Env)
	checkArgs(pr, "server.vllm_args", s.VLLMArgs)
	if pr.has("server.url") {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			pr.errorf("server.url", "%q is not an http(s) URL like http://10.0.0.5:8000", s.URL)
		}
	}
}

// checkEnv checks environment variable names.
func checkEnv(pr *problems, path string, env map[string]string) {
	for _, k := range sortedKeys(env) {
		if !envName.MatchString(k) {
			pr.errorf(joinPath(path, k), "%q is not an environment variable name", k)
		}
	}
}

func (p *Profile) workloadDefaults() {
	pr, w := p.prob, &p.Workload
	if !pr.has("workload.format") {
		if w.Dataset == "" {
			pr.errorf("workload.dataset", "required: a dataset file (.csv with query,answer_0..; or .jsonl), or format: synthetic")
		} else if format, _, err := workload.FormatOf(w.Dataset); err == nil {
			w.Format = format
		} else {
			pr.errorf("workload.dataset", "cannot tell the format of %q from its extension: set workload.format to csv or jsonl", w.Dataset)
		}
	} else if !slices.Contains([]string{FormatCSV, FormatJSONL, FormatSynthetic}, w.Format) {
		pr.errorf("workload.format", "%q is not a format: use csv, jsonl or synthetic", w.Format)
	}
	if w.Format == FormatSynthetic {
		p.syntheticDefaults()
	} else {
		p.rerankDefaults()
	}
	if pr.has("workload.logprobs") && (w.Logprobs < 0 || w.Logprobs > 20) {
		pr.errorf("workload.logprobs", "%d is outside 0–20 (vLLM's default --max-logprobs is 20)", w.Logprobs)
	}
	for _, k := range sortedKeys(w.ExtraBody) {
		switch k {
		case "model", "prompt", "stream", "stream_options":
			pr.errorf(joinPath("workload.extra_body", k), "is set by loadgen for every request and cannot be overridden")
		case "max_tokens", "logprobs":
			pr.errorf(joinPath("workload.extra_body", k), "use workload.%s instead", k)
		case "n", "best_of", "use_beam_search":
			// The client fails a request whose prompts do not get exactly
			// one choice each (bad_choice_index), so these would fail
			// every request.
			pr.errorf(joinPath("workload.extra_body", k), "asks for more than one choice per prompt, and loadgen expects exactly one (a choice per prompt is what it checks and scores): remove it")
		}
	}
}

func (p *Profile) rerankDefaults() {
	pr, w := p.prob, &p.Workload
	if pr.has("workload.synthetic") {
		pr.errorf("workload.synthetic", "only applies with format: synthetic")
	}
	intDefault(pr, "workload.search_num", &w.SearchNum, DefaultSearchNum, 1)
	intDefault(pr, "workload.batch_size", &w.BatchSize, DefaultBatchSize, 1)
	intDefault(pr, "workload.max_length", &w.MaxLength, DefaultMaxLength, 1)
	intDefault(pr, "workload.max_tokens", &w.MaxTokens, 1, 1)
	intDefault(pr, "workload.top_n", &w.TopN, min(DefaultTopN, max(w.SearchNum, 1)), 1)
	if w.TopN > w.SearchNum && w.SearchNum > 0 {
		pr.errorf("workload.top_n", "%d is more than search_num (%d): a query cannot keep more documents than it scores", w.TopN, w.SearchNum)
	}
	if !pr.has("workload.logprobs") {
		w.Logprobs = DefaultLogprobs
	} else if w.Logprobs == 0 {
		pr.errorf("workload.logprobs", "the reranker scores from the logprobs of yes and no: use 20 (the default)")
	}
	if !pr.has("workload.instruction") {
		w.Instruction = DefaultInstruction
	}
	enumDefault(pr, "workload.short_rows", &w.ShortRows, ShortRowsError, ShortRowsPad, ShortRowsSkip)
	enumDefault(pr, "workload.truncation", &w.Truncation, TruncationAuto, TruncationTokenize, TruncationChars)
	for _, k := range []string{"yes_token_id", "no_token_id"} {
		v := w.YesTokenID
		if k == "no_token_id" {
			v = w.NoTokenID
		}
		if v < 0 {
			pr.errorf("workload."+k, "must not be negative (0 asks the server's tokenizer)")
		}
	}
	if w.YesTokenID != 0 && w.YesTokenID == w.NoTokenID {
		pr.errorf("workload.no_token_id", "is the same token as yes_token_id (%d)", w.YesTokenID)
	}
	if w.Dataset != "" {
		p.openableDataset()
	}
}

// openableDataset resolves the dataset path and checks that it is a file.
func (p *Profile) openableDataset() {
	w := &p.Workload
	name := p.resolve(w.Dataset)
	var (
		info fs.FileInfo
		err  error
	)
	if p.fsys != nil {
		info, err = fs.Stat(p.fsys, name)
		w.fsys, w.name, w.Dataset = p.fsys, name, "shipped:"+name
	} else {
		info, err = os.Stat(name)
		w.Dataset = name
	}
	switch {
	case err != nil:
		p.prob.errorf("workload.dataset", "cannot read %s: %v", w.Dataset, unwrapPathError(err))
	case info.IsDir():
		p.prob.errorf("workload.dataset", "%s is a directory, not a dataset file", w.Dataset)
	}
}

// unwrapPathError drops the path that *fs.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func (p *Profile) syntheticDefaults() {
	pr, w := p.prob, &p.Workload
	if w.Dataset != "" {
		pr.errorf("workload.dataset", "a synthetic workload has no dataset: remove dataset or format: synthetic")
	}
	for _, k := range []string{"search_num", "top_n", "batch_size", "max_length", "instruction", "short_rows", "yes_token_id", "no_token_id", "truncation",
		"max_field_size", "max_row_size", "max_decompressed_size"} {
		if pr.has("workload." + k) {
			pr.errorf("workload."+k, "only applies to rerank workloads (csv, jsonl), not to format: synthetic")
		}
	}
	if pr.has("workload.max_tokens") {
		pr.errorf("workload.max_tokens", "a synthetic workload takes max_tokens from synthetic.output_len")
	}
	if w.Synthetic == nil {
		w.Synthetic = &Synthetic{}
	}
	s := w.Synthetic
	intDefault(pr, "workload.synthetic.input_len", &s.InputLen, DefaultInputLen, 1)
	intDefault(pr, "workload.synthetic.output_len", &s.OutputLen, DefaultOutputLen, 1)
	if s.InputLenRange < 0 || s.InputLenRange >= 1 {
		pr.errorf("workload.synthetic.input_len_range", "%g is outside [0, 1): prompt lengths spread over input_len·(1±range)", s.InputLenRange)
	}
	w.MaxTokens = s.OutputLen
}

// maxPromptTokens is the longest prompt the workload can send, in tokens.
func (w Workload) maxPromptTokens() int {
	if w.IsSynthetic() && w.Synthetic != nil {
		return int(float64(w.Synthetic.InputLen)*(1+w.Synthetic.InputLenRange) + 0.999999)
	}
	return w.MaxLength
}

// intDefault sets *v to def when path was not written, and checks that a
// written value is at least lo.
func intDefault(pr *problems, path string, v *int, def, lo int) {
	if !pr.has(path) {
		*v = def
		return
	}
	if *v < lo {
		pr.errorf(path, "must be at least %d, got %d", lo, *v)
	}
}

// enumDefault sets *v to allowed[0] when path was not written, and checks
// a written value against allowed.
func enumDefault(pr *problems, path string, v *string, allowed ...string) {
	if !pr.has(path) {
		*v = allowed[0]
		return
	}
	if !slices.Contains(allowed, *v) {
		msg := fmt.Sprintf("%q is not one of %s", *v, strings.Join(allowed, ", "))
		if s := suggest(*v, allowed); s != "" {
			msg += "; did you mean " + s + "?"
		}
		pr.errorf(path, "%s", msg)
	}
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
