package sim

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"loadgen/server/neuron"
)

// TestResolveConfig checks the plugin's configuration step: defaults,
// overrides and the errors it raises.
func TestResolveConfig(t *testing.T) {
	base := func(f func(*Options)) Options {
		o := testOptions()
		if f != nil {
			f(&o)
		}
		return o
	}
	rows := []struct {
		name  string
		opts  Options
		check func(r resolved) bool
		err   string
	}{
		// The offline config: APC off forces block_size = max_model_len,
		// one null block is added, CPU sampling, auto buckets.
		{name: "offline", opts: base(nil), check: func(r resolved) bool {
			nc := r.Neuron
			return r.BlockSize == 2048 && r.NumBlocks == 5 && !nc.OnDeviceSampling && nc.EnableBucketing &&
				slices.Equal(nc.Buckets.CTE, []int{128, 256, 512, 1024, 2048}) && nc.Buckets.Graphs() == 10
		}},
		// No override: on-device sampling (the plugin's default).
		{name: "ods_default", opts: base(func(o *Options) { o.Override = nil }), check: func(r resolved) bool { return r.Neuron.OnDeviceSampling }},
		// Bucketing off: one bucket of the full length each.
		{name: "no_bucketing", opts: base(func(o *Options) { o.Override = map[string]any{"enable_bucketing": false} }),
			check: func(r resolved) bool {
				return slices.Equal(r.Neuron.Buckets.CTE, []int{2048}) && slices.Equal(r.Neuron.Buckets.TKG, []int{2048})
			}},
		// Listed buckets are used as given (sorted).
		{name: "listed_buckets", opts: base(func(o *Options) {
			o.Override = map[string]any{"context_encoding_buckets": []any{1024.0, 256.0}, "token_generation_buckets": []any{2048.0}}
		}), check: func(r resolved) bool { return slices.Equal(r.Neuron.Buckets.CTE, []int{256, 1024}) }},
		// Unknown keys are collected for the warning, not fatal.
		{name: "unexpected", opts: base(func(o *Options) { o.Override = map[string]any{"foo": 1.0} }),
			check: func(r resolved) bool { return slices.Equal(r.Unexpected, []string{"foo"}) }},
		// APC with block size and enough blocks: the 2-D ladder (3
		// prefill × 4 prefix lengths + 4 TKG graphs).
		{name: "apc_ok", opts: base(func(o *Options) {
			o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 256
			o.Override = map[string]any{"is_prefix_caching": true, "is_block_kv_layout": true, "pa_num_blocks": 256.0}
		}), check: func(r resolved) bool {
			return r.BlockSize == 32 && r.Neuron.PANumBlocks == 257 && r.Neuron.IsPrefixCaching &&
				slices.Equal(r.Neuron.Buckets.Prefix, []int{0, 512, 1024, 2048}) && r.Neuron.Buckets.Graphs() == 16
		}},
		// APC with listed context buckets but no prefix_buckets: NxDI's
		// TypeError in EngineCore.
		{name: "apc_cte_without_prefix_buckets", opts: base(func(o *Options) {
			o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 256
			o.Override = map[string]any{"is_prefix_caching": true, "is_block_kv_layout": true, "context_encoding_buckets": []any{512.0, 2048.0}}
		}), err: `TypeError: can only concatenate list (not "NoneType") to list`},
		// The same with prefix_buckets: 2 × 3 + 4 graphs.
		{name: "apc_cte_with_prefix_buckets", opts: base(func(o *Options) {
			o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 256
			o.Override = map[string]any{"is_prefix_caching": true, "is_block_kv_layout": true, "context_encoding_buckets": []any{512.0, 2048.0}, "prefix_buckets": []any{512.0, 2048.0}}
		}), check: func(r resolved) bool { return r.Neuron.Buckets.Graphs() == 10 }},
		// NxDI 2.26 lists skip_warmup (popped late) but applies it.
		{name: "late_key_226", opts: base(func(o *Options) {
			o.Stack = mustStack("2.26")
			o.Override = map[string]any{"skip_warmup": true}
		}), check: func(r resolved) bool {
			return slices.Equal(r.Unexpected, []string{"skip_warmup"}) && r.Neuron.SkipWarmup
		}},
		// NxDI 2.27 pops it before the check.
		{name: "late_key_227", opts: base(func(o *Options) {
			o.Stack = mustStack("2.27")
			o.Override = map[string]any{"skip_warmup": true}
		}), check: func(r resolved) bool { return len(r.Unexpected) == 0 && r.Neuron.SkipWarmup }},
		// The plugin replaces the token budget whatever was passed.
		{name: "forced_token_budget", opts: base(func(o *Options) { o.MaxNumBatchedTokens = 256 }), check: func(r resolved) bool {
			return slices.Contains(r.Platform, "Neuron custom scheduler default: max_num_batched_tokens set to 131072. Override with --max-num-batched-tokens if needed.")
		}},
		// APC without --block-size.
		{name: "apc_no_block", opts: base(func(o *Options) { o.PrefixCaching = true; o.BlockSize = 0 }),
			err: "AssertionError: When prefix caching is enabled, block_size must be set."},
		// APC with too few blocks.
		{name: "block_math", opts: base(func(o *Options) {
			o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 10
		}), err: "At least 256 blocks are required for max_model_len 2048, but only 10 blocks are available"},
		// APC with is_block_kv_layout turned off: the plugin's bare assert.
		{name: "apc_no_block_kv", opts: base(func(o *Options) {
			o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 256
			o.Override = map[string]any{"is_block_kv_layout": false}
		}), err: "AssertionError"},
		// pa_num_blocks without --num-gpu-blocks-override.
		{name: "pa_without_override", opts: base(func(o *Options) {
			o.PrefixCaching, o.BlockSize, o.NumGPUBlocksOverride = true, 32, 0
			o.Override = map[string]any{"is_prefix_caching": true, "is_block_kv_layout": true, "pa_num_blocks": 512.0}
		}), err: "you must also set --num-gpu-blocks-override"},
		// Without a block KV layout the plugin does not check pa_num_blocks.
		{name: "pa_without_override_no_apc", opts: base(func(o *Options) {
			o.NumGPUBlocksOverride = 0
			o.Override = map[string]any{"pa_num_blocks": 4.0}
		}), check: func(r resolved) bool { return r.Neuron.PANumBlocks == 4 }},
		// A listed bucket beyond max_context_length.
		{name: "bucket_too_long", opts: base(func(o *Options) { o.Override = map[string]any{"context_encoding_buckets": []any{4096.0}} }),
			err: "Context bucket 4096 should be <= 2048"},
		// A wrongly typed override value.
		{name: "bad_type", opts: base(func(o *Options) { o.Override = map[string]any{"enable_bucketing": "yes"} }),
			err: "TypeError: enable_bucketing must be a bool, got 'yes'"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, err := resolveConfig(r.opts)
			if r.err != "" {
				var se *startupError
				if !errors.As(err, &se) || !strings.Contains(se.Exception, r.err) {
					t.Fatalf("error %v, want %q", err, r.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !r.check(got) {
				t.Fatalf("resolved %+v", got)
			}
		})
	}
}

func mustStack(name string) *neuron.Stack {
	st, err := neuron.Lookup(name)
	if err != nil {
		panic(err)
	}
	return st
}

// TestNewRejectsKShape checks New reports the k_shape failure too.
func TestNewRejectsKShape(t *testing.T) {
	o := testOptions()
	o.Override = map[string]any{"is_block_kv_layout": true}
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "'BlockKVCacheManager' object has no attribute 'k_shape'") {
		t.Fatalf("New: %v", err)
	}
}

// TestBucketOverflowKillsEngine checks, in-process, that a prompt longer
// than the largest context bucket fails with a 500 and kills the engine:
// later requests fail too and /health turns 503.
func TestBucketOverflowKillsEngine(t *testing.T) {
	s, ts := newTestServer(t, func(o *Options) {
		o.Override = map[string]any{"on_device_sampling_config": nil, "context_encoding_buckets": []any{128.0}}
	})
	long := mustJSONBody(t, map[string]any{"prompt": strings.Repeat("w ", 200), "max_tokens": 1})
	if st, b := do(t, ts, "POST", "/v1/completions", long); st != 500 || !strings.Contains(b, EngineDeadMessage) {
		t.Fatalf("status %d body %s", st, b)
	}
	<-s.Done()
	if err := s.Err(); !errors.Is(err, ErrEngineDead) || !strings.Contains(err.Error(), "Input len 201 exceeds largest bucket (128)") {
		t.Fatalf("Err() = %v", err)
	}
	if st, _ := do(t, ts, "POST", "/v1/completions", `{"prompt":"hi","max_tokens":1}`); st != 500 {
		t.Fatalf("request after death: %d, want 500", st)
	}
	if st, _ := do(t, ts, "GET", "/health", ""); st != 503 {
		t.Fatalf("health after death: %d, want 503", st)
	}
	// In a stream the 200 is already sent: the error comes inside it.
	s2, ts2 := newTestServer(t, func(o *Options) {
		o.Override = map[string]any{"context_encoding_buckets": []any{128.0}}
	})
	st, body := do(t, ts2, "POST", "/v1/completions", strings.Replace(long, `"max_tokens":1`, `"max_tokens":1,"stream":true`, 1))
	ev := sseEvents(t, body)
	if st != 200 || len(ev) != 2 || decodeChunk(t, ev[0]).Error == nil || ev[1] != "[DONE]" {
		t.Fatalf("stream after engine death: %d %q", st, body)
	}
	<-s2.Done()
}
