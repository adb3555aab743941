package profiles

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"loadgen/server/neuron"
)

// check runs the pre-flight checks of one configuration. Errors are what
// vLLM or vllm-neuron would certainly reject or crash on; warnings are what
// depends on the plugin version or will likely spoil the measurement.
type check struct {
	p        *Profile
	sp       spec
	s        Settings      // with defaults
	stack    *neuron.Stack // nil: not known, check against every supported stack
	findings []finding
}

// at returns the key path a setting's value came from (or the config's
// own path when it is a default).
func (c *check) at(key string) string {
	if path, ok := c.sp.from[key]; ok {
		return path
	}
	return c.sp.path
}

// mapKeyPath returns the key path of one key of a map setting, looking in
// the config first and then in base.
func (c *check) mapKeyPath(field, key string) string {
	pr := c.p.prob
	if pr != nil {
		for _, path := range []string{joinPath(joinPath(c.sp.path, field), key), joinPath(joinPath("base", field), key)} {
			if pr.has(path) {
				return path
			}
		}
	}
	return joinPath(c.at(field), key)
}

func (c *check) errorAt(path, format string, args ...any) {
	c.findings = append(c.findings, finding{path: path, msg: fmt.Sprintf(format, args...)})
}

func (c *check) warnAt(path, format string, args ...any) {
	c.findings = append(c.findings, finding{path: path, msg: fmt.Sprintf(format, args...), warn: true})
}

func (c *check) errorf(key, format string, args ...any) { c.errorAt(c.at(key), format, args...) }
func (c *check) warnf(key, format string, args ...any)  { c.warnAt(c.at(key), format, args...) }

func (c *check) preflight() {
	s, p := c.s, c.p
	if s.MaxModelLen == nil {
		c.errorAt("base", "max_model_len is required: the longest prompt plus output, which is also the compiled sequence length: set e.g. max_model_len: 2048 in base")
		return
	}
	apc := s.PrefixCaching()
	switch {
	case apc && s.BlockSize == nil:
		c.errorf("enable_prefix_caching", "prefix caching needs block_size (vllm-neuron: %q): set block_size, e.g. 32", neuron.MsgPrefixBlockSize)
	case apc && s.NumBlocks() < s.RequiredBlocks():
		need := s.RequiredBlocks()
		c.errorf("pa_num_blocks", "%d blocks are too few with prefix caching: ceil(max_model_len %d / block_size %d) × max_num_seqs %d = %d (vLLM: \"At least %d blocks are required\"): set pa_num_blocks to at least %d, or lower max_model_len or max_num_seqs",
			s.NumBlocks(), s.ModelLen(), *s.BlockSize, s.NumSeqs(), need, need, need)
	case !apc && s.NumBlocks() != s.NumSeqs():
		c.warnf("pa_num_blocks", "is %d, but without prefix caching vllm-neuron ≥ 0.4 wants exactly max_num_seqs (%d), one max_model_len block per sequence; 0.2.x accepts more (the offline benchmark ran 512): set pa_num_blocks: %d, or leave it unset",
			s.NumBlocks(), s.NumSeqs(), s.NumSeqs())
	}
	if apc && s.NumSeqs() == 1 {
		c.warnf("max_num_seqs", "prefix caching with batch size 1 gives incorrect outputs on vllm-neuron (known issue): use max_num_seqs of 2 or more, or turn prefix caching off")
	}
	c.kvLayout(apc)
	c.buckets()
	c.lengths()
	c.neuronKeys(apc)
	if deref(s.SkipWarmup) && len(p.Load) > 0 && p.Load[0].Warmup == 0 {
		c.warnf("skip_warmup", "the server skips its warm-up, so the first request to each bucket pays it inside the first phase (%s): set warmup: N on that phase", p.Load[0].Name)
	}
}

// kvLayout checks is_prefix_caching / is_block_kv_layout written in
// neuron_config against enable_prefix_caching.
func (c *check) kvLayout(apc bool) {
	nc := c.s.NeuronConfig
	chunked := nc["chunked_prefill_config"] != nil
	for _, k := range []string{"is_block_kv_layout", "is_prefix_caching"} {
		v, ok := nc[k]
		if !ok {
			continue
		}
		path := c.mapKeyPath("neuron_config", k)
		switch {
		case apc && v != true:
			c.errorAt(path, "prefix caching needs is_prefix_caching and is_block_kv_layout both true (the plugin asserts it), and loadgen sets them: remove %s", k)
		case !apc && k == "is_block_kv_layout" && v == true && !chunked:
			c.errorAt(path, "block KV layout without prefix caching crashes NxDI at startup (AttributeError: %s): remove it, or set enable_prefix_caching: true (loadgen then sets both keys)", neuron.MsgKShape)
		case !apc && k == "is_prefix_caching" && v == true:
			c.errorAt(path, "turns on prefix caching behind vLLM's back: set enable_prefix_caching: true instead (loadgen then passes --enable-prefix-caching and sets both keys)")
		}
	}
}

// buckets checks the bucket lists as NxDI builds and uses them (package
// neuron): the ladder must build (explicit lists within max_model_len;
// with prefix caching, listed context buckets need prefix_buckets), and the
// longest prompt the workload sends must fit the largest context bucket.
func (c *check) buckets() {
	s, w := c.s, c.p.Workload
	mml, prompt := s.ModelLen(), w.maxPromptTokens()
	if !s.Bucketing() {
		for _, k := range []string{"context_encoding_buckets", "token_generation_buckets", "prefix_buckets"} {
			if c.sp.from[k] != "" {
				c.warnf(k, "is ignored because enable_bucketing is false: every prompt is padded to max_model_len (%d)", mml)
			}
		}
		return
	}
	if !s.PrefixCaching() && c.sp.from["prefix_buckets"] != "" {
		c.warnf("prefix_buckets", "is ignored without enable_prefix_caching: prefix lengths are the second dimension of prefix caching's context ladder only")
	}
	if errs := neuron.LadderErrors(s.bucketInput()); len(errs) > 0 {
		for _, le := range errs {
			switch le.Key {
			case "prefix_buckets":
				c.errorf("context_encoding_buckets", "listed context buckets with prefix caching need prefix_buckets: NxDI compiles every context bucket with every prefix length and fails at startup without them (%s): add prefix_buckets, e.g. %v",
					le.Exception, neuron.AutoPrefixBuckets(mml))
			case "token_generation_buckets":
				c.errorf("token_generation_buckets", "largest token-generation bucket %d exceeds max_model_len %d (NxDI: %s): end the list at %d",
					slices.Max(s.TokenGenerationBuckets), mml, le.Exception, mml)
			default:
				c.errorf("context_encoding_buckets", "largest context bucket %d exceeds max_model_len %d (NxDI: %s): end the list at %d",
					slices.Max(s.ContextEncodingBuckets), mml, le.Exception, mml)
			}
		}
		return
	}
	ladder, err := s.Ladder()
	if err != nil {
		c.errorf("context_encoding_buckets", "NxDI cannot build the bucket ladder: %v", err)
		return
	}
	if len(s.ContextEncodingBuckets) == 0 {
		return
	}
	last := ladder.LargestCTE()
	if _, err := ladder.PickCTE(prompt, 0); err != nil {
		c.errorf("context_encoding_buckets", "largest context bucket %d is below the longest prompt this workload sends (%d tokens, %s): a longer prompt kills the engine on Neuron (%s): end the list with %d (max_model_len)",
			last, prompt, promptKey(w), err, mml)
	} else if last < mml {
		c.warnf("context_encoding_buckets", "largest context bucket %d is below max_model_len %d: this workload fits, but any prompt longer than %d kills the engine on Neuron: end the list with %d",
			last, mml, last, mml)
	}
}

func promptKey(w Workload) string {
	if w.IsSynthetic() {
		return "workload.synthetic.input_len × (1 + input_len_range)"
	}
	return "workload.max_length"
}

// lengths checks that prompts fit max_model_len and, with sequence
// parallelism, that lengths divide by TP.
func (c *check) lengths() {
	s, w, tp := c.s, c.p.Workload, c.p.TensorParallelSize
	mml := s.ModelLen()
	if prompt := w.maxPromptTokens(); prompt+w.MaxTokens > mml {
		c.errorf("max_model_len", "%d is too short for prompts of up to %d tokens (%s) plus max_tokens %d: vLLM rejects them with 400: raise max_model_len to at least %d, or shorten the prompts",
			mml, prompt, promptKey(w), w.MaxTokens, prompt+w.MaxTokens)
	}
	if !deref(s.SequenceParallel) || tp <= 1 {
		return
	}
	if mml%tp != 0 {
		c.errorf("max_model_len", "%d is not divisible by tensor_parallel_size %d, which sequence_parallel needs (\"context length must be divisible by TP group size\"): use a multiple of %d", mml, tp, tp)
	}
	for i, b := range s.ContextEncodingBuckets {
		if b%tp != 0 {
			c.errorAt(indexPath(c.at("context_encoding_buckets"), i), "context bucket %d is not divisible by tensor_parallel_size %d, which sequence_parallel needs: use multiples of %d", b, tp, tp)
		}
	}
}

// neuronKeys checks free neuron_config keys that interact with the rest.
func (c *check) neuronKeys(apc bool) {
	s, p := c.s, c.p
	nc := s.NeuronConfig
	if v, ok := nc["on_device_sampling_config"]; ok && v != nil && (!p.Workload.IsSynthetic() || p.Workload.Logprobs > 0) {
		c.warnAt(c.mapKeyPath("neuron_config", "on_device_sampling_config"), "on-device sampling returns no logprobs, and this workload needs them (the reranker scores from them): on vLLM 0.11 every request then fails (%q); remove it (loadgen sets null, i.e. CPU sampling)", neuron.MsgLogprobIndexError)
	}
	c.neuronFields()
	derived := []struct {
		key, from string
		want      any
	}{
		{"tp_degree", "tensor_parallel_size", int64(p.TensorParallelSize)},
		{"batch_size", "max_num_seqs", int64(s.NumSeqs())},
		{"seq_len", "max_model_len", int64(s.ModelLen())},
		{"torch_dtype", "server.dtype", p.Server.Dtype},
	}
	for _, d := range derived {
		if v, ok := nc[d.key]; ok && v != d.want {
			c.warnAt(c.mapKeyPath("neuron_config", d.key), "is %v but the plugin derives %v from %s: they will disagree; remove it and set %s", v, d.want, d.from, d.from)
		}
	}
	if deref(s.FlashDecoding) && p.Server.Dtype != "bfloat16" {
		c.warnf("flash_decoding", "the NxDI kernels need bf16 but server.dtype is %s: set dtype: bfloat16", p.Server.Dtype)
	}
}

// hubID matches an "org/name" Hugging Face model id.
var hubID = regexp.MustCompile(`^[A-Za-z0-9][\w.-]*/[\w.-]+$`)

// LooksLikeHubID reports whether model reads as a Hugging Face id
// ("org/name") rather than a path.
func LooksLikeHubID(model string) bool { return hubID.MatchString(model) }

// planWarnings are the warnings about the whole plan.
func (p *Profile) planWarnings(pr *problems, configs int) []string {
	for i, ph := range p.Load {
		if w := longPhaseWarning(ph); w != "" {
			pr.warnf(indexPath("load", i), "%s", w)
		}
	}
	tp, s := p.TensorParallelSize, p.Server
	for _, t := range trainiumOnlyTP {
		if tp == t {
			pr.warnf("tensor_parallel_size", "%d is valid on Trainium but not on Inferentia2 (1, 2, 4, 8, 24)", tp)
		}
	}
	if s.URL != "" {
		if configs > 1 {
			pr.warnf("server.url", "%d configs run against the same remote server, whose settings loadgen cannot change: their results only differ by noise", configs)
		}
		for _, k := range []string{"command", "neuron_cores", "env", "vllm_args", "compiled_artifacts", "port", "host"} {
			if pr.has("server." + k) {
				pr.warnf("server."+k, "is ignored: server.url names a server loadgen does not launch")
			}
		}
		return pr.warns
	}
	for _, g := range s.NeuronCores {
		if n := g.Count(); n > tp {
			pr.warnf("server.neuron_cores", "%q reserves %d NeuronCores but tensor_parallel_size %d uses %d: the runtime holds all of them until the server exits", g, n, tp, tp)
		}
	}
	if len(s.NeuronCores) == 0 {
		pr.warnf("server", "neuron_cores is not set, so the Neuron runtime gives this server every core on the host: set it, e.g. neuron_cores: \"0-%d\" for TP %d", tp-1, tp)
	} else if len(s.NeuronCores) > 1 && configs > 1 {
		pr.warnf("server.neuron_cores", "%d core groups: up to %d configurations run at once and share the host's CPUs (the load client, vLLM's CPU sampling), so their results may interfere; every result records the configurations that ran beside it (server.measure: %s measures one at a time)",
			len(s.NeuronCores), min(len(s.NeuronCores), configs), MeasureSerial)
	}
	if hubID.MatchString(p.Model) {
		pr.warnf("model", "%q looks like a Hugging Face id: on Neuron serve a local directory (Qwen's tied embeddings with shard-on-load fail with \"Cannot copy out of meta tensor\")", p.Model)
	}
	if s.ReadyTimeout.D() < 10*time.Minute {
		pr.warnf("server.ready_timeout", "%s is short: a first Neuron compile takes 10–30 minutes (cached starts 1–3)", s.ReadyTimeout)
	}
	return pr.warns
}
