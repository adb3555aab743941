package workload

import (
	"context"
	"errors"
	"io"
)

// startStreaming hands the items built so far and the open dataset to a
// prefetch goroutine.
func (s *RerankSource) startStreaming(ctx context.Context, backlog []Item, ds Dataset) {
	s.mu.Lock()
	s.streamed = true
	s.mu.Unlock()
	s.parent = ctx
	var child context.Context
	child, s.stop = context.WithCancel(ctx)
	s.ch = make(chan result, s.o.Prefetch)
	s.exited = make(chan struct{})
	go s.prefetch(child, backlog, ds)
}

// prefetch sends the backlog, then builds items from ds, reopening it at
// its end when cycling. It owns ds and closes the channel when it returns.
func (s *RerankSource) prefetch(ctx context.Context, backlog []Item, ds Dataset) {
	defer close(s.exited)
	defer close(s.ch)
	defer func() {
		if ds != nil {
			ds.Close()
		}
	}()
	send := func(r result) bool {
		select {
		case s.ch <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i := range backlog {
		it := backlog[i]
		backlog[i] = Item{} // release as we go
		if !send(result{item: it}) {
			return
		}
	}
	cycle := 0
	for {
		q, err := ds.Next()
		if err == io.EOF {
			s.finishPass(ds)
			ds.Close()
			ds = nil
			if !s.o.Cycle {
				send(result{err: io.EOF})
				return
			}
			if ds, err = s.o.Open(); err != nil {
				send(result{err: err})
				return
			}
			cycle++
			continue
		}
		if err != nil {
			send(result{err: err})
			return
		}
		it, _, err := s.build(ctx, q, cycle)
		if err != nil {
			if ctx.Err() == nil {
				send(result{err: err})
			}
			return
		}
		if !send(result{item: it}) {
			return
		}
	}
}

// halt stops the prefetch goroutine and waits for it.
func (s *RerankSource) halt() {
	if s.stop == nil {
		return
	}
	s.stop()
	<-s.exited
}

// Rewind restarts the source at the first query with the cycle count at
// zero, for a new phase over the same dataset. It reuses the cache; a
// streamed dataset is reopened.
func (s *RerankSource) Rewind() error {
	s.err = nil
	s.cycles.Store(0)
	if s.ch == nil {
		s.pos, s.cycle = 0, 0
		return nil
	}
	s.halt()
	if err := s.parent.Err(); err != nil {
		s.err = err
		return err
	}
	s.mu.Lock()
	s.queries, s.stats, s.dsWarn, s.passDone = 0, PromptStats{}, nil, false
	s.mu.Unlock()
	ds, err := s.o.Open()
	if err != nil {
		s.err = err
		return err
	}
	s.startStreaming(s.parent, nil, ds)
	return nil
}

// Close stops the prefetcher and releases the dataset. Next fails after it.
func (s *RerankSource) Close() error {
	s.halt()
	s.items = nil
	s.pos, s.cycle = 0, 0
	s.err = errClosed
	return nil
}

var errClosed = errors.New("rerank source: closed")
