package workload

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"testing/synctest"
	"time"
)

// TestPacedTokenizer checks the pace on a fake clock (synctest): calls
// beyond the burst wait their turn, none is dropped, and the waits are
// counted; unpaced, nothing waits.
func TestPacedTokenizer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		inner := newFakeTokenizer()
		p := NewPacedTokenizer(inner)
		ctx := context.Background()

		// Unpaced (as built): calls go out at once.
		start := time.Now()
		for range 5 {
			if _, err := p.Tokenize(ctx, "hello"); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("unpaced calls took %v, want none", d)
		}

		// 10 calls/s, 2 at once: of 5 calls, 3 wait 100 ms each.
		p.Pace(10, 2)
		start = time.Now()
		for i := range 5 {
			if i%2 == 0 {
				_, err := p.Tokenize(ctx, "hello")
				if err != nil {
					t.Fatal(err)
				}
			} else if _, err := p.Detokenize(ctx, []int{Qwen3YesID}); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Errorf("5 paced calls took %v, want 300ms", d)
		}
		if n, w := p.Waited(); n != 3 || w != 300*time.Millisecond {
			t.Errorf("Waited() = %d calls, %v; want 3, 300ms", n, w)
		}
		if inner.calls != 8 { // 5 unpaced + 3 paced Tokenize calls
			t.Errorf("the tokenizer got %d Tokenize calls, want 8: a paced call was dropped", inner.calls)
		}

		// A call waiting for its turn ends with its context, without
		// reaching the server.
		ctx2, cancel := context.WithCancel(ctx)
		go func() {
			time.Sleep(10 * time.Millisecond)
			cancel()
		}()
		for {
			if _, err := p.Tokenize(ctx2, "hello"); err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("a cancelled wait returned %v", err)
				}
				break
			}
		}

		// Unpace: at once again; a new Pace counts afresh.
		p.Unpace()
		start = time.Now()
		if _, err := p.Tokenize(ctx, "hello"); err != nil || time.Since(start) != 0 {
			t.Errorf("after Unpace: %v, took %v", err, time.Since(start))
		}
		p.Pace(10, 1)
		if n, w := p.Waited(); n != 0 || w != 0 {
			t.Errorf("Waited() after a new Pace = %d, %v; want zero", n, w)
		}
	})
}

// TestPacedBuilder builds a query's prompts through a tight pace: every
// prompt is built, and they equal the unpaced ones.
func TestPacedBuilder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		opts := PromptOptions{Instruction: "Judge", MaxLength: 8}
		q := Query{Text: "what is covered?", Documents: []string{
			"water damage from a burst pipe is covered", "floods are not", "theft is covered with a police report",
			"wear and tear is excluded", "fire is covered", "earthquakes need a rider"}}
		plain, err := NewBuilder(ctx, opts, newFakeTokenizer())
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Build(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		paced := NewPacedTokenizer(newFakeTokenizer())
		b, err := NewBuilder(ctx, opts, paced)
		if err != nil {
			t.Fatal(err)
		}
		paced.Pace(2, 1) // far slower than the builder's parallel calls
		got, err := b.Build(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("paced prompts differ from unpaced ones:\n got %+v\nwant %+v", got, want)
		}
		if n, _ := paced.Waited(); n == 0 {
			t.Error("the pace delayed no call: the test does not test pacing")
		}
	})
}
