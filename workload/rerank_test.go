package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// memDataset opens an in-memory JSONL dataset of n queries with docs
// documents each, counting opens.
func memDataset(n, docs int, opens *atomic.Int64) func() (Dataset, error) {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"query":"q%d","documents":[`, i)
		for d := range docs {
			if d > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"doc %d of %d"`, d, i)
		}
		b.WriteString("],\"relevant\":[0]}\n")
	}
	data := b.String()
	return func() (Dataset, error) {
		if opens != nil {
			opens.Add(1)
		}
		return NewDataset(strings.NewReader(data), "mem.jsonl", "", DatasetOptions{})
	}
}

// drain takes n items and returns their (query, cycle) pairs.
func drain(t *testing.T, s Source, n int) [][2]int {
	t.Helper()
	var out [][2]int
	for range n {
		it, err := s.Next(context.Background())
		if err != nil {
			t.Fatalf("after %d items: %v", len(out), err)
		}
		out = append(out, [2]int{it.Query, it.Cycle})
	}
	return out
}

func TestRerankSourceCycles(t *testing.T) {
	want := [][2]int{{0, 0}, {1, 0}, {2, 0}, {0, 1}, {1, 1}, {2, 1}, {0, 2}}
	for _, cache := range []int{0, -1, 1} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			var opens atomic.Int64
			src, err := NewRerankSource(context.Background(), RerankOptions{
				Open: memDataset(3, 5, &opens), Request: RequestOptions{BatchSize: 2}, TopN: 3, Cycle: true,
				CacheQueries: cache, Prefetch: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Cached() != (cache == 0) {
				t.Errorf("cached %v with cache limit %d", src.Cached(), cache)
			}
			if got := drain(t, src, 7); !reflect.DeepEqual(got, want) {
				t.Errorf("items %v, want %v", got, want)
			}
			if src.Cycles() != 2 || src.Queries() != 3 {
				t.Errorf("cycles %d queries %d, want 2 and 3", src.Cycles(), src.Queries())
			}
			// A cached dataset is opened once; a streamed one per cycle.
			if cache == 0 && opens.Load() != 1 || cache != 0 && opens.Load() < 3 {
				t.Errorf("%d opens", opens.Load())
			}
			w := src.Warnings()
			if !containsSub(w, "prompts truncated by the character fallback (~4 characters per token) because no server tokenizer") {
				t.Errorf("warnings %q lack the fallback", w)
			}
			if st := src.PromptStats(); st.Prompts != 15 {
				t.Errorf("stats %+v count %d prompts, want 15 (first pass only)", st, st.Prompts)
			}
		})
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestRerankSourceEnds(t *testing.T) {
	for _, cache := range []int{0, -1} {
		src, err := NewRerankSource(context.Background(), RerankOptions{Open: memDataset(2, 3, nil), CacheQueries: cache})
		if err != nil {
			t.Fatal(err)
		}
		it, _ := src.Next(context.Background())
		if it.Documents != 3 || it.TopN != 3 || len(it.Requests) != 3 || !reflect.DeepEqual(it.Relevant, []int{0}) {
			t.Errorf("item %+v: want 3 documents, top_n all, 3 requests, labels", it)
		}
		src.Next(context.Background())
		for range 2 {
			if _, err := src.Next(context.Background()); err != io.EOF {
				t.Errorf("cache %d: after the last query: %v, want io.EOF", cache, err)
			}
		}
		src.Close()
		if _, err := src.Next(context.Background()); err == nil {
			t.Error("Next after Close succeeded")
		}
	}
}

func TestRerankSourceRewind(t *testing.T) {
	for _, cache := range []int{0, -1} {
		src, err := NewRerankSource(context.Background(), RerankOptions{Open: memDataset(2, 1, nil), Cycle: true, CacheQueries: cache})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, src, 3)
		if err := src.Rewind(); err != nil {
			t.Fatal(err)
		}
		if got := drain(t, src, 2); !reflect.DeepEqual(got, [][2]int{{0, 0}, {1, 0}}) || src.Cycles() != 0 {
			t.Errorf("cache %d: after Rewind %v, cycles %d", cache, got, src.Cycles())
		}
		if st := src.PromptStats(); st.Prompts != 2 {
			t.Errorf("cache %d: stats %+v after Rewind, want 2 prompts", cache, st)
		}
		src.Close()
	}
}

// TestRerankSourceCacheBytes streams a dataset whose bodies exceed the
// byte limit, and says so when prompts are tokenized during the phase.
func TestRerankSourceCacheBytes(t *testing.T) {
	srv := newFakeServer(t, 0)
	src, err := NewRerankSource(context.Background(), RerankOptions{
		Open: memDataset(4, 2, nil), CacheBytes: 1, Tokenizer: NewServerTokenizer(srv.Client(), srv.URL, "m"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Cached() || src.Method() != TruncationTokenize {
		t.Fatalf("cached %v method %s", src.Cached(), src.Method())
	}
	if got := drain(t, src, 4); !reflect.DeepEqual(got, [][2]int{{0, 0}, {1, 0}, {2, 0}, {3, 0}}) {
		t.Errorf("items %v", got)
	}
	if !containsSub(src.Warnings(), "prompts are built during the phase, and their /tokenize calls add load to the server") {
		t.Errorf("warnings %q", src.Warnings())
	}
}

func TestRerankSourceErrors(t *testing.T) {
	ctx := context.Background()
	bad := func() (Dataset, error) {
		return NewDataset(strings.NewReader("{\"query\":\"q\",\"documents\":[\"a\"]}\n{\"query\":1}\n"), "bad.jsonl", "", DatasetOptions{})
	}
	if _, err := NewRerankSource(ctx, RerankOptions{Open: bad}); err == nil || err.Error() != "bad.jsonl:2:10: query: want a string, got number" {
		t.Errorf("cached: %v", err)
	}
	// Streaming: the error arrives through Next, after the good query.
	src, err := NewRerankSource(ctx, RerankOptions{Open: bad, CacheQueries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := src.Next(ctx); err == nil || !strings.HasPrefix(err.Error(), "bad.jsonl:2:10:") {
			t.Errorf("streaming: %v", err)
		}
	}
	if _, err := NewRerankSource(ctx, RerankOptions{}); err == nil {
		t.Error("no dataset accepted")
	}
	open := func() (Dataset, error) { return nil, errors.New("no such file") }
	if _, err := NewRerankSource(ctx, RerankOptions{Open: open}); err == nil || err.Error() != "no such file" {
		t.Errorf("open error: %v", err)
	}
	// A cancelled context stops Next.
	src2, _ := NewRerankSource(ctx, RerankOptions{Open: memDataset(1, 1, nil)})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := src2.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestRerankSourceCloseStopsPrefetch checks that Close returns while the
// prefetcher is blocked on a full channel (go test -race catches leaks of
// shared state; Close waits for the goroutine to exit).
func TestRerankSourceCloseStopsPrefetch(t *testing.T) {
	src, err := NewRerankSource(context.Background(), RerankOptions{Open: memDataset(50, 1, nil), Cycle: true, CacheQueries: -1, Prefetch: 1})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, src, 1)
	src.Close()
	select {
	case <-src.exited:
	default:
		t.Error("prefetcher still running after Close")
	}
}

// TestRerankSourceNextAllocs: cached items cost no allocation.
func TestRerankSourceNextAllocs(t *testing.T) {
	src, err := NewRerankSource(context.Background(), RerankOptions{Open: memDataset(3, 20, nil), Cycle: true, Request: RequestOptions{BatchSize: 8}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if a := testing.AllocsPerRun(100, func() { src.Next(ctx) }); a != 0 {
		t.Errorf("%v allocations per cached Next, want 0", a)
	}
}

// TestRerankSourceParentCancelled: a streaming source whose context ends
// says why.
func TestRerankSourceParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src, err := NewRerankSource(ctx, RerankOptions{Open: memDataset(5, 1, nil), Cycle: true, CacheQueries: -1, Prefetch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cancel()
	<-src.exited
	var err2 error
	for range 3 { // up to Prefetch items may already be buffered
		if _, err2 = src.Next(context.Background()); err2 != nil {
			break
		}
	}
	if err2 == nil || err2.Error() != "rerank source: context canceled" {
		t.Errorf("got %v", err2)
	}
}
