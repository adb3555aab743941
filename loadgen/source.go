package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"loadgen/profiles"
	"loadgen/workload"
)

// builtWorkload is the workload of one configuration: prompts are built
// (and tokenized by the server, when it can) once after the server is
// ready, before any phase, and reused by every phase — tokenization never
// runs on the measured path for datasets that fit the cache.
type builtWorkload struct {
	wl     profiles.Workload
	data   *profiles.Dataset // what pre-flight read; nil for synthetic load
	model  string
	rerank *workload.RerankSource // nil for synthetic load
	scorer *workload.Scorer       // nil for synthetic load
	// idsFrom says where the ids of "yes" and "no" came from.
	idsFrom string
	// paced is the server's tokenizer (nil without one), paced during
	// phases (phaseTokenizePace).
	paced *workload.PacedTokenizer
}

// buildWorkload prepares the workload against a ready server at baseURL,
// from the dataset pre-flight read (nil for synthetic load).
func buildWorkload(ctx context.Context, wl profiles.Workload, data *profiles.Dataset, model, baseURL string, client *http.Client) (*builtWorkload, error) {
	b := &builtWorkload{wl: wl, data: data, model: model}
	if wl.IsSynthetic() {
		return b, nil
	}
	if data == nil {
		return nil, errors.New("workload: the dataset was not read by pre-flight")
	}
	var tok workload.Tokenizer
	if wl.Truncation != profiles.TruncationChars {
		b.paced = workload.NewPacedTokenizer(workload.NewServerTokenizer(client, baseURL, model))
		tok = b.paced
	}
	yes, no := wl.YesTokenID, wl.NoTokenID
	b.idsFrom = "profile"
	if yes == 0 || no == 0 {
		y, n, fromServer, err := workload.ProbeTokenizer(ctx, tok)
		if err != nil {
			return nil, fmt.Errorf("workload: %w", err)
		}
		b.idsFrom = "Qwen3 defaults (the server has no /tokenize)"
		if fromServer {
			b.idsFrom = "the server's tokenizer"
		}
		if yes == 0 {
			yes = y
		}
		if no == 0 {
			no = n
		}
	}
	src, err := workload.NewRerankSource(ctx, workload.RerankOptions{
		Open: data.Open,
		Prompt: workload.PromptOptions{
			Instruction: wl.Instruction,
			MaxLength:   wl.MaxLength,
			Truncation:  wl.Truncation,
		},
		Request: workload.RequestOptions{
			Model:     model,
			BatchSize: wl.BatchSize,
			MaxTokens: wl.MaxTokens,
			Logprobs:  wl.Logprobs,
			YesID:     yes,
			NoID:      no,
			ExtraBody: wl.ExtraBody,
		},
		TopN:      wl.TopN,
		Tokenizer: tok,
		Cycle:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	sc := workload.NewScorer(yes, no)
	b.rerank, b.scorer = src, &sc
	return b, nil
}

// source returns the source of a phase, positioned at the first query.
func (b *builtWorkload) source(ph profiles.Phase) (workload.Source, error) {
	if b.rerank == nil {
		s := b.wl.Synthetic
		return workload.NewSyntheticSource(workload.SyntheticOptions{
			Model:         b.model,
			InputLen:      s.InputLen,
			InputLenRange: s.InputLenRange,
			OutputLen:     s.OutputLen,
			Seed:          ph.Seed,
			ExtraBody:     b.wl.ExtraBody,
		}), nil
	}
	if b.paced != nil {
		b.paced.Pace(phaseTokenizePace(ph, b.wl.SearchNum), b.wl.SearchNum)
	}
	if err := b.rerank.Rewind(); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	return b.rerank, nil
}

// minPhaseTokenize is the least pace of a phase's prompt building, in
// /tokenize and /detokenize calls a second. It is also the pace of phases
// without a target rate (sync, inf), which the server itself limits: at 20
// documents a query it keeps up with 5 queries/s (2.5 when every prompt is
// cut and detokenized), over 1.5× the shipped inf2.xlarge configurations'
// best closed-loop rate (3.2 queries/s).
const minPhaseTokenize = 200

// phaseTokenizePace is how many tokenizer calls a second prompt building
// may make while phase ph (its rates in queries/s) is measured, with docs documents a query: twice
// what the (highest) target rate needs at worst (a tokenize and a detokenize per
// document), and at least minPhaseTokenize. Only a dataset too large for
// the prompt cache tokenizes during a phase at all; the dataset's first
// pass is built at full speed before the first phase.
func phaseTokenizePace(ph profiles.Phase, docs int) float64 {
	rate := float64(ph.Rate.QPS)
	if ph.Ramp != nil {
		rate = max(rate, float64(ph.Ramp.From.QPS), float64(ph.Ramp.To.QPS))
	}
	need := 2 * 2 * float64(docs) * rate
	if math.IsInf(need, 0) || math.IsNaN(need) {
		need = 0
	}
	return max(need, minPhaseTokenize)
}

// onePassQueries is the query count of a phase that makes one pass over
// the dataset, as pre-flight counted it.
func (b *builtWorkload) onePassQueries() (int, error) {
	if b.data == nil {
		return 0, errors.New("a synthetic workload has no dataset to pass over: set queries or duration")
	}
	return b.data.Queries(), nil
}

// warnings are the workload's notes for a phase result.
func (b *builtWorkload) warnings() []string {
	if b.rerank == nil {
		return nil
	}
	w := b.rerank.Warnings()
	if b.paced != nil {
		if n, waited := b.paced.Waited(); n > 0 {
			w = append(w, fmt.Sprintf("prompt building held %d tokenizer calls back for %s in all, to spare the server under test: if the dispatcher waited for those prompts, schedule_lag shows it",
				n, waited.Round(time.Millisecond)))
		}
	}
	return w
}

func (b *builtWorkload) method() string {
	if b.rerank == nil {
		return ""
	}
	return b.rerank.Method()
}

// datasetQueries is the size of a cached dataset (0 when synthetic or
// streamed: then the engine's own count of wraps stands).
func (b *builtWorkload) datasetQueries() int {
	if b.rerank == nil || !b.rerank.Cached() {
		return 0
	}
	return b.rerank.Queries()
}

func (b *builtWorkload) close() {
	if b != nil && b.rerank != nil {
		b.rerank.Close()
	}
}
