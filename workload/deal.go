package workload

import (
	"context"
	"fmt"
	"sync"
)

// Dealer deals the items of one source to clients in turn: item j goes to
// client j mod n, so that n clients splitting one phase send disjoint
// queries which together are the source's sequence (with prefix caching
// on, two clients sending the same query would hit each other's cache).
// Clients not kept (another process runs them) have their items dropped.
// Its clients' Next may be called concurrently.
type Dealer struct {
	mu    sync.Mutex
	src   Source
	n     int
	next  int            // index of the next item the source yields
	queue map[int][]Item // items dealt to a kept client and not yet taken
	err   error          // the source's error (io.EOF, …), returned to every client
}

// Deal deals src to n clients, keeping those listed.
func Deal(src Source, n int, keep ...int) *Dealer {
	d := &Dealer{src: src, n: n, queue: map[int][]Item{}}
	for _, k := range keep {
		d.queue[k] = nil
	}
	return d
}

// Client returns client k's source; k must be one Deal kept.
func (d *Dealer) Client(k int) Source { return dealt{d, k} }

type dealt struct {
	d *Dealer
	k int
}

// Next returns the client's next item: one already dealt to it, or the
// source is read until one is.
func (c dealt) Next(ctx context.Context) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	d := c.d
	d.mu.Lock()
	defer d.mu.Unlock()
	q, kept := d.queue[c.k]
	if !kept {
		return Item{}, fmt.Errorf("workload: client %d of %d is not dealt to", c.k, d.n)
	}
	if len(q) > 0 {
		d.queue[c.k] = q[1:]
		return q[0], nil
	}
	for d.err == nil {
		it, err := d.src.Next(ctx)
		if err != nil && ctx.Err() != nil {
			return Item{}, err // this client's own end: the others go on
		}
		if err != nil {
			d.err = err
			break
		}
		k := d.next % d.n
		d.next++
		if k == c.k {
			return it, nil
		}
		if _, ok := d.queue[k]; ok {
			d.queue[k] = append(d.queue[k], it)
		}
	}
	return Item{}, d.err
}
