package sim

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestStatsCounts checks the request counters and the bounded per-prompt
// records.
func TestStatsCounts(t *testing.T) {
	s, ts := newTestServer(t, func(o *Options) { o.StatsCap = 3 })
	for i := 0; i < 2; i++ {
		do(t, ts, "POST", "/v1/completions", `{"prompt":["a","b"],"max_tokens":1}`)
	}
	do(t, ts, "POST", "/v1/completions", `{"prompt":"a","logprobs":99}`)
	st := s.Stats()
	if st.Requests != 3 || st.OK != 2 || st.Failed != 1 {
		t.Fatalf("requests %d ok %d failed %d, want 3 2 1", st.Requests, st.OK, st.Failed)
	}
	if st.Prompts != 4 || len(st.Seqs) != 3 || st.SeqsDropped != 1 {
		t.Fatalf("prompts %d records %d dropped %d, want 4 3 1", st.Prompts, len(st.Seqs), st.SeqsDropped)
	}
	// Records are the most recent, in completion order.
	last := st.Seqs[len(st.Seqs)-1]
	if last.Index != 1 || st.Seqs[1].Index != 0 || last.Queue() <= 0 || last.E2E() < last.TTFT() || last.Written.Before(last.FirstToken) {
		t.Fatalf("records %+v", st.Seqs)
	}
	if st.Prefills != 4 || st.ModelBusy <= 0 || st.PaddedTokens != 4*128 {
		t.Fatalf("prefills %d model busy %v padded %d", st.Prefills, st.ModelBusy, st.PaddedTokens)
	}
	// Stats is a copy: changing it does not change the server's.
	st.Seqs[0].Index = 99
	st.Faults["x"] = 1
	if again := s.Stats(); again.Seqs[0].Index == 99 || again.Faults["x"] == 1 {
		t.Fatal("Stats shares memory with the server")
	}
}

// TestNewDefaultsLatency checks New fills a zero LatencyModel.
func TestNewDefaultsLatency(t *testing.T) {
	o := testOptions()
	o.Latency = LatencyModel{}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.opts.Latency != DefaultLatency {
		t.Fatal("zero latency model not defaulted")
	}
}

// TestClosedServerFails checks requests after Close fail at once instead
// of waiting for an engine that is gone.
func TestClosedServerFails(t *testing.T) {
	s, ts := newTestServer(t, nil)
	s.Close()
	if st, b := do(t, ts, "POST", "/v1/completions", `{"prompt":"x","max_tokens":1}`); st != 500 {
		t.Fatalf("after Close: %d %s", st, b)
	}
}

// TestMainHelp checks --help prints the usage and exits 0.
func TestMainHelp(t *testing.T) {
	var out strings.Builder
	if err := Main(context.Background(), []string{"serve", "--help"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), Usage) || !strings.Contains(out.String(), "--sim-speed") {
		t.Fatalf("help:\n%s", out.String())
	}
}
