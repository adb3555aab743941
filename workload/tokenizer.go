package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"loadgen/loadgen/bounded"
)

// Tokenizer turns text into the served model's token ids and back. It must be
// safe for concurrent use: a Builder tokenizes the documents of a query in
// parallel.
type Tokenizer interface {
	// Tokenize returns the ids of text without special tokens added
	// (add_special_tokens=false); special tokens written in the text,
	// such as <|im_start|>, are still recognised.
	Tokenize(ctx context.Context, text string) ([]int, error)
	// Detokenize returns the text of ids.
	Detokenize(ctx context.Context, ids []int) (string, error)
}

// ErrTokenizeUnsupported is returned (wrapped) by the server tokenizer when
// the server has no /tokenize or /detokenize route (HTTP 404, 405 or 501).
var ErrTokenizeUnsupported = errors.New("server has no tokenizer endpoint")

// maxErrorBody bounds how much of an error response is quoted.
const maxErrorBody = 512

// MaxTokenizeBody bounds the response body of one /tokenize or /detokenize
// call: the ids of a document of the largest field (1 MiB of text, a few
// MiB of JSON numbers) fit many times over, and a server that answers with
// an endless body fails the call instead of growing memory. It is fixed
// (README.md, "Limits").
const MaxTokenizeBody = 64 << 20

type serverTokenizer struct {
	client  *http.Client
	baseURL string
	model   string
}

// NewServerTokenizer returns a Tokenizer that calls vLLM's POST /tokenize
// ({"model", "prompt", "add_special_tokens": false} → {"tokens": [...]})
// and POST /detokenize ({"model", "tokens"} → {"prompt"}). baseURL is the
// server root (http://host:port, without /v1); a nil client uses
// http.DefaultClient.
func NewServerTokenizer(client *http.Client, baseURL, model string) Tokenizer {
	if client == nil {
		client = http.DefaultClient
	}
	return &serverTokenizer{client: client, baseURL: strings.TrimRight(baseURL, "/"), model: model}
}

type tokenizeRequest struct {
	Model            string `json:"model,omitempty"`
	Prompt           string `json:"prompt"`
	AddSpecialTokens bool   `json:"add_special_tokens"`
}

type tokenizeResponse struct {
	Tokens *[]int `json:"tokens"`
}

type detokenizeRequest struct {
	Model  string `json:"model,omitempty"`
	Tokens []int  `json:"tokens"`
}

type detokenizeResponse struct {
	Prompt *string `json:"prompt"`
}

// Tokenize implements Tokenizer.
func (s *serverTokenizer) Tokenize(ctx context.Context, text string) ([]int, error) {
	var resp tokenizeResponse
	if err := s.post(ctx, "/tokenize", tokenizeRequest{Model: s.model, Prompt: text}, &resp); err != nil {
		return nil, err
	}
	if resp.Tokens == nil {
		return nil, errors.New("tokenize: response has no \"tokens\"")
	}
	return *resp.Tokens, nil
}

// Detokenize implements Tokenizer.
func (s *serverTokenizer) Detokenize(ctx context.Context, ids []int) (string, error) {
	var resp detokenizeResponse
	if err := s.post(ctx, "/detokenize", detokenizeRequest{Model: s.model, Tokens: ids}, &resp); err != nil {
		return "", err
	}
	if resp.Prompt == nil {
		return "", errors.New("detokenize: response has no \"prompt\"")
	}
	return *resp.Prompt, nil
}

func (s *serverTokenizer) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return fmt.Errorf("%s: HTTP %d: %w", path, resp.StatusCode, ErrTokenizeUnsupported)
	default:
		return fmt.Errorf("%s: HTTP %d: %s", path, resp.StatusCode, bounded.Quote(resp.Body, maxErrorBody))
	}
	data, err := bounded.Limit{What: "the response body of POST " + path, Max: MaxTokenizeBody}.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading response: %w", path, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decoding response: %w", path, err)
	}
	return nil
}

// ProbeTokenizer asks the tokenizer for the ids of "yes" and "no". ok is true
// when they came from the server; with a nil tokenizer, or a server without
// /tokenize, it returns the Qwen3 ids Qwen3YesID and Qwen3NoID with ok false
// and no error. Any other failure returns the Qwen3 ids and the error. A
// word that is not a single token is an error: the model is then not a
// Qwen3-style yes/no reranker. The profile may override both ids.
func ProbeTokenizer(ctx context.Context, tok Tokenizer) (yesID, noID int, ok bool, err error) {
	if tok == nil {
		return Qwen3YesID, Qwen3NoID, false, nil
	}
	ids := [2]int{}
	for i, word := range []string{"yes", "no"} {
		got, err := tok.Tokenize(ctx, word)
		if errors.Is(err, ErrTokenizeUnsupported) {
			return Qwen3YesID, Qwen3NoID, false, nil
		}
		if err != nil {
			return Qwen3YesID, Qwen3NoID, false, fmt.Errorf("probing the id of %q: %w", word, err)
		}
		if len(got) != 1 {
			return Qwen3YesID, Qwen3NoID, false, fmt.Errorf("the tokenizer splits %q into %d tokens %v: not a yes/no reranker vocabulary; set the ids in the profile", word, len(got), got)
		}
		ids[i] = got[0]
	}
	return ids[0], ids[1], true, nil
}

// PacedTokenizer passes calls to another Tokenizer, paced by a token
// bucket while Pace is in effect: each Tokenize or Detokenize call first
// waits for a token. It is for prompts built while a phase is measured
// (a dataset too large for the prompt cache is streamed): their /tokenize
// calls load the very server being measured, and pacing keeps that load
// bounded and smooth instead of a burst each time the prefetch refills.
// Pacing only delays: no call is dropped and every prompt is built, later
// if need be (a late prompt shows in the phase's schedule lag, and Waited
// says how much the pace held calls back). Until Pace, and after Unpace,
// calls go out at once. Safe for concurrent use.
type PacedTokenizer struct {
	next Tokenizer
	lim  atomic.Pointer[rate.Limiter] // the pace in effect

	mu      sync.Mutex
	delayed int           // calls that had to wait since the last Pace
	waited  time.Duration // their total wait
}

var _ Tokenizer = (*PacedTokenizer)(nil)

// NewPacedTokenizer returns next, unpaced until Pace is called.
func NewPacedTokenizer(next Tokenizer) *PacedTokenizer {
	p := &PacedTokenizer{next: next}
	p.Unpace()
	return p
}

// Pace lets at most perSecond calls a second through, burst of them at
// once (the bucket starts full), and starts counting the calls it delays
// afresh. perSecond ≤ 0 or infinite lifts the pace (as Unpace); burst
// below 1 counts as 1. A call already waiting keeps the turn it was given.
func (p *PacedTokenizer) Pace(perSecond float64, burst int) {
	limit := rate.Limit(perSecond)
	if perSecond <= 0 || math.IsInf(perSecond, 1) {
		limit = rate.Inf
	}
	p.mu.Lock()
	p.delayed, p.waited = 0, 0
	p.mu.Unlock()
	p.lim.Store(rate.NewLimiter(limit, max(burst, 1)))
}

// Unpace lets calls go out at once again.
func (p *PacedTokenizer) Unpace() { p.lim.Store(rate.NewLimiter(rate.Inf, 1)) }

// Waited returns how many calls the pace delayed since the last Pace, and
// their total wait.
func (p *PacedTokenizer) Waited() (calls int, total time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delayed, p.waited
}

// Tokenize implements Tokenizer.
func (p *PacedTokenizer) Tokenize(ctx context.Context, text string) ([]int, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	return p.next.Tokenize(ctx, text)
}

// Detokenize implements Tokenizer.
func (p *PacedTokenizer) Detokenize(ctx context.Context, ids []int) (string, error) {
	if err := p.wait(ctx); err != nil {
		return "", err
	}
	return p.next.Detokenize(ctx, ids)
}

// wait takes a token, waiting for it as long as it takes; only the end of
// ctx stops it (and returns the token).
func (p *PacedTokenizer) wait(ctx context.Context) error {
	r := p.lim.Load().Reserve() // one token never exceeds the burst: always OK
	d := r.Delay()
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
	p.mu.Lock()
	p.delayed++
	p.waited += d
	p.mu.Unlock()
	return nil
}
