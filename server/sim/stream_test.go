package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestStreamChunks checks the shape of a streamed list prompt with
// max_tokens > 1: one chunk per token per prompt, choice index = prompt
// index, finish_reason only on each prompt's last token, then the usage
// chunk and [DONE].
func TestStreamChunks(t *testing.T) {
	_, ts := newTestServer(t, nil)
	body := `{"model":"rr","prompt":["one two three","four five"],"max_tokens":3,"temperature":0,"logprobs":1,"stream":true,"stream_options":{"include_usage":true}}`
	status, out := do(t, ts, "POST", "/v1/completions", body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	events := sseEvents(t, out)
	if got := events[len(events)-1]; got != "[DONE]" {
		t.Fatalf("last event %q, want [DONE]", got)
	}
	usage := decodeChunk(t, events[len(events)-2])
	if len(usage.Choices) != 0 || usage.Usage == nil || usage.Usage.CompletionTokens != 6 ||
		usage.Usage.PromptTokens != CountTokens("one two three")+CountTokens("four five") {
		t.Fatalf("usage chunk %s", events[len(events)-2])
	}
	perIndex := map[int]int{}
	offsets := map[int]int{}
	for _, ev := range events[:len(events)-2] {
		c := decodeChunk(t, ev)
		if c.Usage != nil || len(c.Choices) != 1 {
			t.Fatalf("token chunk %s", ev)
		}
		ch := c.Choices[0]
		perIndex[ch.Index]++
		last := perIndex[ch.Index] == 3
		if (ch.FinishReason != nil) != last || last && *ch.FinishReason != "length" {
			t.Fatalf("chunk %d of choice %d has finish_reason %v", perIndex[ch.Index], ch.Index, ch.FinishReason)
		}
		if ch.Logprobs.TextOffset[0] != offsets[ch.Index] {
			t.Fatalf("text_offset %d, want %d", ch.Logprobs.TextOffset[0], offsets[ch.Index])
		}
		offsets[ch.Index] += len(ch.Text)
	}
	if perIndex[0] != 3 || perIndex[1] != 3 {
		t.Fatalf("chunks per choice %v, want 3 each", perIndex)
	}
}

// TestTopLogprobsSemantics checks top_logprobs as vLLM builds it: the
// sampled token first, then the top k, so k entries when the sampled token
// is among them and k+1 otherwise; and yes/no consistent with Relevance.
func TestTopLogprobsSemantics(t *testing.T) {
	_, ts := newTestServer(t, nil)
	prompt := rerankPrompt("flood insurance coverage", "Flood insurance coverage is sold separately from homeowners insurance.")
	rows := []struct {
		name    string
		k       int
		allowed string
		want    int
	}{
		// Greedy "yes" is the top token: k entries.
		{"top5", 5, "", 5},
		// logprobs 0 returns only the sampled token.
		{"zero", 0, "", 1},
		// Sampling restricted to a token outside the top 2 adds it: k+1.
		{"allowed_outside", 2, `,"allowed_token_ids":[198]`, 3},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0,"logprobs":%d%s}`, prompt, r.k, r.allowed)
			status, out := do(t, ts, "POST", "/v1/completions", body)
			if status != 200 {
				t.Fatalf("status %d: %s", status, out)
			}
			var resp struct {
				Choices []struct {
					Text     string
					Logprobs struct {
						Tokens      []string
						TopLogprobs []map[string]float64 `json:"top_logprobs"`
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &resp); err != nil {
				t.Fatal(err)
			}
			top := resp.Choices[0].Logprobs.TopLogprobs[0]
			if len(top) != r.want {
				t.Fatalf("top_logprobs has %d entries, want %d: %v", len(top), r.want, top)
			}
			if _, ok := top[resp.Choices[0].Logprobs.Tokens[0]]; !ok {
				t.Fatalf("sampled token %q missing from top_logprobs %v", resp.Choices[0].Logprobs.Tokens[0], top)
			}
		})
	}
	// With enough entries, P(yes) recovered from the logprobs is Relevance.
	body := fmt.Sprintf(`{"model":"rr","prompt":%q,"max_tokens":1,"temperature":0,"logprobs":20}`, prompt)
	_, out := do(t, ts, "POST", "/v1/completions", body)
	c := decodeChunk(t, out)
	top := c.Choices[0].Logprobs.TopLogprobs[0]
	p := 1 / (1 + math.Exp(top["no"]-top["yes"]))
	if want := Relevance(prompt); math.Abs(p-want) > 1e-9 {
		t.Fatalf("P(yes) from logprobs %v, Relevance %v", p, want)
	}
	if mass := math.Exp(top["yes"]) + math.Exp(top["no"]); math.Abs(mass-answerMass) > 1e-9 {
		t.Fatalf("yes+no mass %v, want %v", mass, answerMass)
	}
}

// TestTokenIDPrompts checks that token-id prompts (flat and list of lists)
// are detokenized and scored like their text.
func TestTokenIDPrompts(t *testing.T) {
	_, ts := newTestServer(t, nil)
	prompt := rerankPrompt("what is a deductible", "A deductible is what you pay before the insurer pays.")
	ids := Tokenize(nil, prompt)
	score := func(promptJSON string) map[string]float64 {
		body := fmt.Sprintf(`{"model":"rr","prompt":%s,"max_tokens":1,"temperature":0,"logprobs":2,"return_tokens_as_token_ids":true}`, promptJSON)
		status, out := do(t, ts, "POST", "/v1/completions", body)
		if status != 200 {
			t.Fatalf("status %d: %s", status, out)
		}
		return decodeChunk(t, out).Choices[0].Logprobs.TopLogprobs[0]
	}
	text := score(mustJSONBody(t, prompt))
	flat := score(mustJSONBody(t, ids))
	nested := score(mustJSONBody(t, [][]int{ids}))
	for _, got := range []map[string]float64{flat, nested} {
		if got["token_id:9693"] != text["token_id:9693"] || got["token_id:2152"] != text["token_id:2152"] {
			t.Fatalf("token-id prompt scored %v, text %v", got, text)
		}
	}
}

// TestRelevanceRanks checks that relevance orders documents by overlap with
// the query, so reranking through the simulator is meaningful.
func TestRelevanceRanks(t *testing.T) {
	q := "flood damage homeowners insurance claim"
	docs := []string{
		"To file a flood damage claim under homeowners insurance, call your insurer.", // all words
		"Homeowners insurance rarely covers flood damage.",                            // most
		"Car insurance premiums depend on your driving record.",                       // one
		"The weather was sunny all week.",                                             // none
	}
	prev := 2.0
	for i, d := range docs {
		p := Relevance(rerankPrompt(q, d))
		if p >= prev {
			t.Fatalf("doc %d scored %v, not below the previous %v", i, p, prev)
		}
		prev = p
	}
	if p := Relevance(rerankPrompt(q, docs[0])); p < 0.85 {
		t.Fatalf("a document with every query word scored %v", p)
	}
	if p := Relevance(rerankPrompt(q, docs[3])); p > 0.1 {
		t.Fatalf("an unrelated document scored %v", p)
	}
	if !strings.Contains(rerankPrompt(q, "x"), "<Query>: "+q) {
		t.Fatal("prompt template lost the query")
	}
}
