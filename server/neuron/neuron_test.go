package neuron

import (
	"reflect"
	"strings"
	"testing"

	_ "loadgen/loadgen/testkit" // -update: go test ./... -update passes it to every test binary
)

func TestGenerateBuckets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min, max int
		want     []int
	}{
		{128, 2048, []int{128, 256, 512, 1024, 2048}}, // round(log2 2048) = 11: powers up to 1024, then max
		{128, 1400, []int{128, 256, 512, 1400}},       // round(log2 1400) = 10: no 1024
		{128, 1500, []int{128, 256, 512, 1024, 1500}}, // round(log2 1500) = 11
		{512, 2048, []int{512, 1024, 2048}},           // prefix caching's vertical ladder
		{128, 100, []int{100}},                        // max below min: max alone
		{2048, 2048, []int{2048}},                     // min == max
		{128, 3000, []int{128, 256, 512, 1024, 2048, 3000}},
		{128, 2500, []int{128, 256, 512, 1024, 2500}},                            // log2(2500) rounds to 11
		{128, 40960, []int{128, 256, 512, 1024, 2048, 4096, 8192, 16384, 40960}}, // Qwen3's default length
	}
	for _, tc := range tests {
		if got := GenerateBuckets(tc.min, tc.max); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GenerateBuckets(%d, %d) = %v, want %v", tc.min, tc.max, got, tc.want)
		}
	}
}

func TestBuildLadder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     BucketInput
		want   Ladder
		graphs int
		err    string
	}{
		{"auto 1-D", BucketInput{Enabled: true, MaxContextLength: 2048, MaxLength: 2048},
			Ladder{CTE: []int{128, 256, 512, 1024, 2048}, TKG: []int{128, 256, 512, 1024, 2048}}, 10, ""},
		{"auto 2-D: 3 prefill × 4 prefix + 4 TKG", BucketInput{Enabled: true, PrefixCaching: true, MaxContextLength: 2048, MaxLength: 2048},
			Ladder{CTE: []int{512, 1024, 2048}, Prefix: []int{0, 512, 1024, 2048}, TKG: []int{256, 512, 1024, 2048}}, 16, ""},
		{"bucketing off", BucketInput{MaxContextLength: 2048, MaxLength: 2048},
			Ladder{CTE: []int{2048}, TKG: []int{2048}}, 2, ""},
		{"bucketing off with prefix caching", BucketInput{PrefixCaching: true, MaxContextLength: 2048, MaxLength: 2048},
			Ladder{CTE: []int{2048}, Prefix: []int{0, 2048}, TKG: []int{2048}}, 3, ""},
		{"explicit 2-D", BucketInput{Enabled: true, PrefixCaching: true, MaxContextLength: 2048, MaxLength: 2048, CTE: []int{1024, 512, 2048}, Prefix: []int{512, 2048}},
			Ladder{CTE: []int{512, 1024, 2048}, Prefix: []int{0, 512, 2048}, TKG: []int{256, 512, 1024, 2048}}, 13, ""},
		{"explicit CTE, prefix caching, no prefix_buckets", BucketInput{Enabled: true, PrefixCaching: true, MaxContextLength: 2048, MaxLength: 2048, CTE: []int{512, 2048}},
			Ladder{}, 0, MsgPrefixBucketsTypeError},
		{"context bucket above max_context_length", BucketInput{Enabled: true, MaxContextLength: 1024, MaxLength: 2048, CTE: []int{512, 2048}},
			Ladder{}, 0, "AssertionError: Context bucket 2048 should be <= 1024"},
		{"explicit TKG with prefix caching stays 1 per length", BucketInput{Enabled: true, PrefixCaching: true, MaxContextLength: 1024, MaxLength: 1024, TKG: []int{1024}},
			Ladder{CTE: []int{512, 1024}, Prefix: []int{0, 512, 1024}, TKG: []int{1024}}, 7, ""},
	}
	for _, tc := range tests {
		got, err := BuildLadder(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) || got.Graphs() != tc.graphs {
			t.Errorf("%s: got %+v (%d graphs), %v; want %+v (%d graphs)", tc.name, got, got.Graphs(), err, tc.want, tc.graphs)
		}
	}
}

func TestPickCTE(t *testing.T) {
	t.Parallel()
	oneD := Ladder{CTE: []int{128, 256, 512, 1024, 2048}, TKG: []int{2048}}
	twoD := Ladder{CTE: []int{512, 1024, 2048}, Prefix: []int{0, 512, 1024, 2048}, TKG: []int{2048}}
	tests := []struct {
		name           string
		l              Ladder
		prompt, prefix int
		want           CTEBucket
		err            string
	}{
		{"1-D strict: 256 pads to 512", oneD, 256, 0, CTEBucket{Prefill: 512}, ""},
		{"1-D short prompt", oneD, 100, 0, CTEBucket{Prefill: 128}, ""},
		{"1-D equals the largest", oneD, 2048, 0, CTEBucket{Prefill: 2048}, ""},
		{"1-D too long", oneD, 3000, 0, CTEBucket{}, "ValueError: Input len 3000 exceeds largest bucket (2048) for context_encoding_model"},
		{"2-D short prompt pads to 512", twoD, 100, 0, CTEBucket{Prefill: 512}, ""},
		{"2-D corner case 256 < n ≤ 512", twoD, 400, 96, CTEBucket{Prefill: 512}, ""},
		{"2-D prefill ≤ bucket (not strict)", twoD, 1024, 0, CTEBucket{Prefill: 1024}, ""},
		{"2-D empty slots absorb the prefix", twoD, 700, 64, CTEBucket{Prefill: 1024}, ""},
		{"2-D prefix left over", twoD, 1300, 1200, CTEBucket{Prefill: 512, Prefix: 1024}, ""},
		{"2-D too long", twoD, 3000, 0, CTEBucket{}, "ValueError: Prefill len tensor(3000, dtype=torch.int32) exceeds largest bucket (tensor(2048, dtype=torch.int32)) for context_encoding_model"},
	}
	for _, tc := range tests {
		got, err := tc.l.PickCTE(tc.prompt, tc.prefix)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestPickFirstFit(t *testing.T) {
	t.Parallel()
	b := []int{128, 256, 2048}
	tests := []struct {
		n, want int
		ok      bool
	}{
		{1, 128, true},     // shortest prompt, first bucket
		{127, 128, true},   // below the bucket
		{128, 256, true},   // strictly shorter only: 128 goes to 256
		{2047, 2048, true}, // into the largest
		{2048, 2048, true}, // an exact match on the largest is allowed
		{2049, 0, false},   // longer than the largest: the engine dies
	}
	for _, tc := range tests {
		if got, ok := pickFirstFit(b, tc.n); got != tc.want || ok != tc.ok {
			t.Errorf("pickFirstFit(%d) = %d, %v; want %d, %v", tc.n, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDictKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		want     []string
		complete bool
	}{
		{"{'skip_warmup': True}", []string{"skip_warmup"}, true}, // 2.26 late key
		{"{'apply_seq_ids_mask': False, 'kv_cache_tiling': False, 'weights_to_skip_layout_optimization': []}", // reuse
			[]string{"apply_seq_ids_mask", "kv_cache_tiling", "weights_to_skip_layout_optimization"}, true},
		{`{"it's": {'a': [1, (2, 3)], 'b': '}'}, 'x': "a,b"}`, []string{"it's", "x"}, true}, // nesting and quotes
		{"{}", nil, true}, // nothing
		{"{'a': 1, 'b': [1, 2", []string{"a", "b"}, false}, // clipped line
		{"not a dict", nil, false},                         // garbage
		{"{1: 2}", nil, false},                             // not string keys
	}
	for _, tc := range tests {
		got, complete := DictKeys(tc.in)
		if !reflect.DeepEqual(got, tc.want) || complete != tc.complete {
			t.Errorf("DictKeys(%q) = %q, %v; want %q, %v", tc.in, got, complete, tc.want, tc.complete)
		}
	}
}

func FuzzDictKeys(f *testing.F) {
	f.Add("{'skip_warmup': True, 'tile_cc': {'a': [1, \"x'\"]}}")
	f.Add("{'a\\'b': None}")
	f.Fuzz(func(t *testing.T, s string) {
		keys, _ := DictKeys(s)
		if len(keys) > len(s) {
			t.Fatalf("%d keys from %d bytes", len(keys), len(s))
		}
	})
}

func TestClassifyUnexpected(t *testing.T) {
	t.Parallel()
	s226, _ := Lookup("2.26")
	s227, _ := Lookup("2.27")
	written := func(ks ...string) func(string) bool {
		return func(k string) bool {
			for _, w := range ks {
				if w == k {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name    string
		s       *Stack
		keys    []string
		written func(string) bool
		want    Unexpected
	}{
		{"2.26 skip_warmup is late, not a typo", s226, []string{"skip_warmup"}, written("skip_warmup"), Unexpected{Late: []string{"skip_warmup"}}},
		{"2.27 skip_warmup never warns; a written typo does", s227, []string{"skip_wramup"}, written("skip_wramup"), Unexpected{Typos: []string{"skip_wramup"}}},
		{"reuse: derived keys", s227, []string{"is_prefill_stage", "kv_cache_tiling", "tile_cc"}, written(), Unexpected{Derived: []string{"is_prefill_stage", "kv_cache_tiling", "tile_cc"}}},
		{"a written derived key is ignored: typo", s227, []string{"tile_cc"}, written("tile_cc"), Unexpected{Typos: []string{"tile_cc"}}},
		{"unknown origin", s227, []string{"use_draft_group"}, written(), Unexpected{Other: []string{"use_draft_group"}}},
	}
	for _, tc := range tests {
		if got := tc.s.ClassifyUnexpected(tc.keys, tc.written); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := s227.Suggest("skip_wramup"); got != "skip_warmup" {
		t.Errorf("Suggest(skip_wramup) = %q", got)
	}
	if s226.Kind("attn_cls") != KeyAccepted || s227.Kind("attn_cls") != KeyAccepted {
		t.Error("attn_cls is a NeuronConfig field in every version (Qwen3's reuse does not warn about it)")
	}
	if s226.Kind("windowed_context_encoding_size") != KeyUnknown || s227.Kind("windowed_context_encoding_size") != KeyAccepted {
		t.Error("windowed_context_encoding_size was added in 2.27")
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		v     Versions
		stack string
		notes int
	}{
		{"DLAMI 2.27", Versions{VLLM: "0.11.0", Plugin: "0.2.2+lts", NxDI: "0.7.14366+f3cdc6bb", Compiler: "2.22.12471.0+b4a00d10"}, "2.27", 0},
		{"2.26.1 by hand", Versions{VLLM: "0.11.0", Plugin: "0.2.0", NxDI: "0.6.10598"}, "2.26", 0},
		{"GitHub plugin on 2.27 NxDI: NxDI decides", Versions{VLLM: "0.11.0", Plugin: "0.2.0", NxDI: "0.7.14366"}, "2.27", 1},
		{"no NxDI: the plugin decides", Versions{Plugin: "0.2.0"}, "2.26", 0},
		{"unknown", Versions{VLLM: "0.13.0", Plugin: "0.4.1", NxDI: "0.8.1"}, "", 0},
	}
	for _, tc := range tests {
		st, notes, ok := Match(tc.v)
		name := ""
		if ok {
			name = st.Name
		}
		if name != tc.stack || len(notes) != tc.notes {
			t.Errorf("%s: got %q %q, want %q with %d notes", tc.name, name, notes, tc.stack, tc.notes)
		}
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	s := Default()
	got := s.Overrides(Flags{MaxModelLen: 2048, MaxNumBatchedTokens: 256, BlockSize: 32})
	if len(got) != 2 || !strings.Contains(got[0].String(), "--max-num-batched-tokens 256 → 131072") || !strings.Contains(got[1].String(), "2048 (max_model_len)") {
		t.Errorf("without prefix caching: %v", got)
	}
	if got := s.Overrides(Flags{MaxModelLen: 2048, MaxNumBatchedTokens: 256, BlockSize: 32, PrefixCaching: true}); len(got) != 1 {
		t.Errorf("with prefix caching only the token budget is replaced: %v", got)
	}
	if got := s.Overrides(Flags{MaxModelLen: 2048, MaxNumBatchedTokens: 256, CustomSchedulerOff: true}); got != nil {
		t.Errorf("native scheduler: %v", got)
	}
	if DefaultNumBlocks(2000, 32, 4) != 248 || MinBlocks(2000, 32, 4) != 252 {
		t.Error("block math: the default floors, the check ceils")
	}
}
