package workload

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
)

// countSource yields items 0..n-1, then io.EOF.
type countSource struct{ i, n int }

func (s *countSource) Next(context.Context) (Item, error) {
	if s.i == s.n {
		return Item{}, io.EOF
	}
	s.i++
	return Item{Query: s.i - 1}, nil
}

func TestDeal(t *testing.T) {
	ctx := context.Background()
	// Three clients in one process, taking items concurrently: each gets
	// every third item in order, and together all of them.
	d := Deal(&countSource{n: 30}, 3, 0, 1, 2)
	got := make([][]int, 3)
	var wg sync.WaitGroup
	for k := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				it, err := d.Client(k).Next(ctx)
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				got[k] = append(got[k], it.Query)
			}
		}()
	}
	wg.Wait()
	for k, qs := range got {
		if len(qs) != 10 || !slices.IsSorted(qs) || qs[0] != k || qs[9] != 27+k {
			t.Errorf("client %d got %v, want %d, %d, …, %d", k, qs, k, k+3, 27+k)
		}
	}
	// Client 1 of 2 in a process of its own: the other client's items are
	// dropped, not kept.
	one := Deal(&countSource{n: 6}, 2, 1)
	for _, want := range []int{1, 3, 5} {
		if it, err := one.Client(1).Next(ctx); err != nil || it.Query != want {
			t.Errorf("client 1/2: item %d, %v; want %d", it.Query, err, want)
		}
	}
	if len(one.queue) != 1 || len(one.queue[1]) != 0 {
		t.Errorf("the dealer kept items nobody takes: %v", one.queue)
	}
	if _, err := one.Client(0).Next(ctx); err == nil {
		t.Error("a client that was not kept got an item")
	}
	// A client whose own context ends does not end the others.
	two := Deal(&countSource{n: 4}, 2, 0, 1)
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := two.Client(0).Next(done); !errors.Is(err, context.Canceled) {
		t.Errorf("client 0 after its context ended: %v", err)
	}
	if it, err := two.Client(1).Next(ctx); err != nil || it.Query != 1 {
		t.Errorf("client 1 after client 0's context ended: item %d, %v; want 1", it.Query, err)
	}
}
