package workload

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestSyntheticSource(t *testing.T) {
	ctx := context.Background()
	o := SyntheticOptions{Model: "m", InputLen: 100, InputLenRange: 0.5, OutputLen: 64, OutputLenRange: 0.25, Seed: 7,
		ExtraBody: map[string]any{"temperature": 0.7}}
	a, b := NewSyntheticSource(o), NewSyntheticSource(o)
	minIn, maxIn := 1<<30, 0
	for i := range 500 {
		ia, err := a.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ib, _ := b.Next(ctx)
		if !reflect.DeepEqual(ia, ib) {
			t.Fatal("the same seed gave different items")
		}
		if ia.Query != i || len(ia.Requests) != 1 || ia.Requests[0].Prompts != 1 || ia.Documents != 0 {
			t.Fatalf("item %+v", ia)
		}
		var body struct {
			Model         string         `json:"model"`
			Prompt        [][]int        `json:"prompt"`
			MaxTokens     int            `json:"max_tokens"`
			Temperature   float64        `json:"temperature"`
			IgnoreEOS     bool           `json:"ignore_eos"`
			Stream        bool           `json:"stream"`
			StreamOptions map[string]any `json:"stream_options"`
		}
		if err := json.Unmarshal(ia.Requests[0].Body, &body); err != nil {
			t.Fatal(err)
		}
		n := len(body.Prompt[0])
		minIn, maxIn = min(minIn, n), max(maxIn, n)
		if n < 50 || n > 150 || body.MaxTokens < 48 || body.MaxTokens > 80 {
			t.Fatalf("lengths %d in, %d out outside [50,150] and [48,80]", n, body.MaxTokens)
		}
		for _, id := range body.Prompt[0] {
			if id < 1000 || id >= DefaultSyntheticVocab {
				t.Fatalf("token id %d outside the regular vocabulary", id)
			}
		}
		if body.Model != "m" || !body.IgnoreEOS || !body.Stream || body.StreamOptions["include_usage"] != true || body.Temperature != 0.7 {
			t.Fatalf("body %s", ia.Requests[0].Body)
		}
	}
	// 500 uniform draws over [50, 150] reach near both ends.
	if minIn > 55 || maxIn < 145 {
		t.Errorf("input lengths span [%d, %d], want about [50, 150]", minIn, maxIn)
	}
	other := NewSyntheticSource(SyntheticOptions{InputLen: 100, OutputLen: 64, Seed: 8})
	ia, _ := NewSyntheticSource(SyntheticOptions{InputLen: 100, OutputLen: 64, Seed: 7}).Next(ctx)
	ib, _ := other.Next(ctx)
	if reflect.DeepEqual(ia, ib) {
		t.Error("different seeds gave the same prompt")
	}
}

func TestSyntheticText(t *testing.T) {
	src := NewSyntheticSource(SyntheticOptions{InputLen: 30, OutputLen: 1, Text: true})
	it, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Prompt []string }
	json.Unmarshal(it.Requests[0].Body, &body)
	if len(body.Prompt) != 1 || len(strings.Fields(body.Prompt[0])) != 30 {
		t.Errorf("prompt %q: want 30 words", body.Prompt)
	}
}

func TestSyntheticInvalid(t *testing.T) {
	tests := []struct {
		why  string
		o    SyntheticOptions
		want string
	}{
		{"no input length", SyntheticOptions{OutputLen: 1}, "synthetic input_len 0: must be positive"},
		{"no output length", SyntheticOptions{InputLen: 1}, "synthetic output_len 0: must be positive"},
		{"range of 1 allows empty prompts", SyntheticOptions{InputLen: 1, OutputLen: 1, InputLenRange: 1}, "synthetic input_len_range 1: want 0 ≤ r < 1"},
		{"negative range", SyntheticOptions{InputLen: 1, OutputLen: 1, OutputLenRange: -0.1}, "synthetic output_len_range -0.1: want 0 ≤ r < 1"},
		{"vocabulary too small", SyntheticOptions{InputLen: 1, OutputLen: 1, Vocab: 10}, "synthetic vocab 10: must exceed 1000"},
	}
	for _, tt := range tests {
		if _, err := NewSyntheticSource(tt.o).Next(context.Background()); err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.why, err, tt.want)
		}
	}
}
