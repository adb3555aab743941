package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"

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
		tok = workload.NewServerTokenizer(client, baseURL, model)
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
	if err := b.rerank.Rewind(); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	return b.rerank, nil
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
	return b.rerank.Warnings()
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
