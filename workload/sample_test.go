package workload

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/testkit"
)

// sampleDir holds the shipped sample dataset.
const sampleDir = "../profiles/data"

// TestSampleGolden regenerates the shipped sample and compares it with the
// committed files; -update rewrites them.
func TestSampleGolden(t *testing.T) {
	for _, format := range []string{FormatCSV, FormatJSONL} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSample(&buf, format); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join(sampleDir, "insurance."+format), buf.Bytes())
		})
	}
}

// bucketOf names the context bucket of a prompt length.
func bucketOf(tokens int) string {
	switch {
	case tokens <= 256:
		return "<=256"
	case tokens <= 512:
		return "257-512"
	case tokens <= 1024:
		return "513-1024"
	}
	return ">1024"
}

// TestSampleDistribution checks the shipped sample's shape and length
// distribution and logs it (go test -run TestSampleDistribution -v).
func TestSampleDistribution(t *testing.T) {
	queries := SampleQueries()
	if len(queries) < 12 {
		t.Fatalf("%d queries, want at least 12", len(queries))
	}
	full := &Builder{opts: PromptOptions{Instruction: DefaultInstruction, MaxChars: -1}}
	cut := &Builder{opts: PromptOptions{Instruction: DefaultInstruction, MaxChars: DefaultMaxChars}}
	raw, afterCut := map[string]int{}, map[string]int{}
	type span struct{ n, minW, maxW, sumW, minT, maxT int }
	spans := map[string]*span{}
	over1500, total, maxCut := 0, 0, 0
	for _, q := range queries {
		if len(q.Documents) != SampleDocuments {
			t.Fatalf("query %d has %d documents", q.Index, len(q.Documents))
		}
		if len(q.Relevant) < 3 {
			t.Errorf("query %d has %d relevant documents, want at least 3", q.Index, len(q.Relevant))
		}
		for _, d := range q.Documents {
			body, _ := full.Body(q.Text, d)
			tok := EstimateTokens(PromptPrefix + body + PromptSuffix)
			b := bucketOf(tok)
			raw[b]++
			w := len(strings.Fields(d))
			s := spans[b]
			if s == nil {
				s = &span{minW: w, minT: tok}
				spans[b] = s
			}
			s.n++
			s.sumW += w
			s.minW, s.maxW = min(s.minW, w), max(s.maxW, w)
			s.minT, s.maxT = min(s.minT, tok), max(s.maxT, tok)
			if tok > 1500 {
				over1500++
			}
			body, _ = cut.Body(q.Text, d)
			cutTok := EstimateTokens(PromptPrefix + body + PromptSuffix)
			afterCut[bucketOf(cutTok)]++
			maxCut = max(maxCut, cutTok)
			total++
		}
	}
	want := map[string]float64{"<=256": 0.60, "257-512": 0.25, "513-1024": 0.10, ">1024": 0.05}
	for _, b := range []string{"<=256", "257-512", "513-1024", ">1024"} {
		got := float64(raw[b]) / float64(total)
		s := spans[b]
		if s == nil {
			t.Fatalf("no document in bucket %s", b)
		}
		t.Logf("bucket %-8s %3d docs (%4.1f%%): document %d–%d words (mean %d), prompt ≈%d–%d tokens; after the 2000-char cut: %d docs",
			b, raw[b], 100*got, s.minW, s.maxW, s.sumW/s.n, s.minT, s.maxT, afterCut[b])
		if d := got - want[b]; d > 0.03 || d < -0.03 {
			t.Errorf("bucket %s holds %.1f%% of prompts, want %.0f%% ± 3", b, 100*got, 100*want[b])
		}
	}
	t.Logf("%d of %d prompts over 1500 tokens before the character cut; the longest after it ≈%d tokens", over1500, total, maxCut)
	if over1500 == 0 {
		t.Error("no prompt over 1500 tokens: nothing needs truncation at max_length 1500")
	}
}

// TestSampleReads reads the committed sample files back through the dataset
// readers: both formats hold the same queries.
func TestSampleReads(t *testing.T) {
	want := SampleQueries()
	for _, format := range []string{FormatCSV, FormatJSONL} {
		ds, err := OpenDataset(filepath.Join(sampleDir, "insurance."+format), "", DatasetOptions{SearchNum: SampleDocuments})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			q, err := ds.Next()
			if err != nil {
				if i != len(want) {
					t.Errorf("%s: %d queries then %v, want %d", format, i, err, len(want))
				}
				break
			}
			w := want[i]
			if q.Text != w.Text || fmt.Sprint(q.Documents) != fmt.Sprint(w.Documents) {
				t.Errorf("%s: query %d differs from SampleQueries", format, i)
			}
			if format == FormatJSONL && fmt.Sprint(q.Relevant) != fmt.Sprint(w.Relevant) {
				t.Errorf("%s: query %d relevant %v, want %v", format, i, q.Relevant, w.Relevant)
			}
		}
		ds.Close()
	}
}
