package profiles

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"loadgen/server"
)

// TestDefaults: a minimal profile gets every documented default.
func TestDefaults(t *testing.T) {
	p := mustParse(t, "model: /models/m\nworkload:\n  dataset: testdata/sample.csv\nbase:\n  max_model_len: 2048\n")
	abs, err := filepath.Abs("testdata/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	w, s, ph := p.Workload, p.Server, p.Load
	checks := []struct {
		what      string
		got, want any
	}{
		// The name comes from the file name.
		{"name", p.Name, "p"},
		{"served_model_name", p.ServedModelName, "/models/m"},
		{"tensor_parallel_size", p.TensorParallelSize, 1},
		{"command", slices.Equal(s.Command, []string{"vllm", "serve"}), true},
		{"host", s.Host, server.DefaultHost},
		{"port", s.Port, server.DefaultPort},
		{"dtype", s.Dtype, "bfloat16"},
		// At least 60 minutes: first Neuron compiles are long.
		{"ready_timeout", s.ReadyTimeout.D(), server.DefaultReadyTimeout},
		{"stop_grace", s.StopGrace.D(), 30 * time.Second},
		{"compiled_artifacts", s.CompiledArtifacts, DefaultArtifactsRoot},
		// The dataset is resolved against the profile's directory.
		{"dataset", w.Dataset, abs},
		{"format", w.Format, FormatCSV},
		{"search_num", w.SearchNum, 20},
		{"top_n", w.TopN, 6},
		{"batch_size", w.BatchSize, 8},
		{"max_length", w.MaxLength, 1500},
		{"instruction", w.Instruction, "Given a query about insurance, retrieve relevant passages that answer the query"},
		{"max_tokens", w.MaxTokens, 1},
		{"logprobs", w.Logprobs, 20},
		{"short_rows", w.ShortRows, ShortRowsError},
		{"truncation", w.Truncation, TruncationAuto},
		{"yes/no ids ask the tokenizer", w.YesTokenID + w.NoTokenID, 0},
		// No load: one sync pass over the dataset.
		{"phases", len(ph), 1},
		{"phase", ph[0].Name + " " + ph[0].Arrival, "sync sync"},
		{"one pass", ph[0].OnePass(), true},
		{"burstiness", ph[0].Burstiness, 1.0},
		{"request_timeout", ph[0].RequestTimeout.D(), 5 * time.Minute},
		{"slo", ph[0].SLO == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	cs := expand(t, p).Configs[0].Settings
	settings := []struct {
		what      string
		got, want any
	}{
		{"max_num_seqs", cs.NumSeqs(), 32},
		// Prefix caching is off unless asked for, and always explicit.
		{"prefix caching", *cs.EnablePrefixCaching, false},
		{"bucketing", *cs.EnableBucketing, true},
		// Without prefix caching, one block per sequence.
		{"pa_num_blocks", *cs.PANumBlocks, 32},
		{"skip_warmup", *cs.SkipWarmup, false},
		{"kv_cache_quant", *cs.KVCacheQuant, false},
		{"largest bucket", largestCTE(t, cs), 2048},
	}
	for _, c := range settings {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestPhaseDefaults: derived names, rate inf as the inf arrival, and SLOs
// merged key by key.
func TestPhaseDefaults(t *testing.T) {
	p := mustParse(t, minimal+`base:
  max_model_len: 2048
slo:
  ttft: 500ms
  query_latency: 2s
load:
  - arrival: poisson
    rate: 0.5
    queries: 5
  - arrival: gamma
    rate: 2
    burstiness: 0.25
    duration: 30s
  - arrival: constant
    queries: 5
    ramp: {strategy: exponential, from: 1, to: 8}
  - arrival: poisson
    rate: inf
    max_concurrency: 3
    queries: 5
    slo:
      query_latency: 5s
  - arrival: sync
    queries: 3
`)
	want := []struct {
		name, arrival string
		rate          Rate
		slo           SLO
	}{
		{"poisson-0.5", ArrivalPoisson, 0.5, SLO{TTFT: Duration(500 * time.Millisecond), QueryLatency: Duration(2 * time.Second)}},
		{"gamma-2-b0.25", ArrivalGamma, 2, SLO{TTFT: Duration(500 * time.Millisecond), QueryLatency: Duration(2 * time.Second)}},
		{"constant-ramp-1-8", ArrivalConstant, 0, SLO{TTFT: Duration(500 * time.Millisecond), QueryLatency: Duration(2 * time.Second)}},
		// rate: inf under poisson is the inf arrival, as vLLM's --request-rate inf.
		{"inf-c3", ArrivalInf, InfRate, SLO{TTFT: Duration(500 * time.Millisecond), QueryLatency: Duration(5 * time.Second)}},
		{"sync", ArrivalSync, 0, SLO{TTFT: Duration(500 * time.Millisecond), QueryLatency: Duration(2 * time.Second)}},
	}
	for i, w := range want {
		ph := p.Load[i]
		if ph.Name != w.name || ph.Arrival != w.arrival || ph.Rate.QPS != w.rate || ph.SLO == nil || *ph.SLO != w.slo {
			t.Errorf("phase %d = %+v (slo %+v), want %+v", i, ph, ph.SLO, w)
		}
	}
	if p.Load[4].OnePass() {
		t.Error("a sync phase with queries is not one pass")
	}
	if got, ok := p.Phase("inf-c3"); !ok || got.MaxConcurrency != 3 {
		t.Errorf("Phase(inf-c3) = %+v, %v", got, ok)
	}
}

// TestSyntheticDefaults: synthetic load takes max_tokens from output_len
// and asks for no logprobs unless told.
func TestSyntheticDefaults(t *testing.T) {
	p := mustParse(t, "model: /models/m\nbase:\n  max_model_len: 2048\nworkload:\n  format: synthetic\nload:\n  - arrival: poisson\n    rate: 1\n    queries: 4\n")
	w := p.Workload
	if !w.IsSynthetic() || w.Synthetic.InputLen != 512 || w.Synthetic.OutputLen != 128 || w.MaxTokens != 128 || w.Logprobs != 0 || w.Dataset != "" {
		t.Errorf("workload %+v, synthetic %+v", w, w.Synthetic)
	}
}

// TestDatasetFormatGzip: the format follows workload.FormatOf, so a gzipped
// dataset is read as what it compresses.
func TestDatasetFormatGzip(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "d.jsonl.gz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: t\nmodel: /models/m\ntensor_parallel_size: 2\nworkload:\n  dataset: d.jsonl.gz\nbase:\n  max_model_len: 2048\n"
	p, err := Parse([]byte(src), filepath.Join(dir, "p.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Workload.Format != FormatJSONL {
		t.Errorf("format %q, want jsonl", p.Workload.Format)
	}
}

// largestCTE is the largest context bucket NxDI compiles for s.
func largestCTE(t *testing.T, s Settings) int {
	t.Helper()
	l, err := s.Ladder()
	if err != nil {
		t.Fatal(err)
	}
	return l.LargestCTE()
}
