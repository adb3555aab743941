package loadgen

import (
	"context"
	"fmt"
	"sync"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// A phase's load can be split across clients, each sending its share
// (profiles.SplitPhase) with its own seed and its own queries (dealt from
// one sequence by workload.Deal): all of them in this process (a phase's
// clients: N), merged into one result exactly (merge.Shares); or one of
// them here and the others elsewhere (Options.Client, `run --client I/N`),
// each result a share that `loadgen merge` joins.

// clientParts are the shares of phase ph this process runs: nil for the
// whole phase, the one share of Options.Client, or every share of a phase
// split across clients.
func (s *sweeper) clientParts(ph profiles.Phase) []schema.Part {
	if s.o.Client != nil {
		return []schema.Part{*s.o.Client}
	}
	if ph.Clients <= 1 {
		return nil
	}
	parts := make([]schema.Part, ph.Clients)
	for i := range parts {
		parts[i] = schema.Part{Index: i, Count: ph.Clients}
	}
	return parts
}

// checkClient refuses, before anything starts, a share of a phase that
// cannot be split that way (Options.Client).
func checkClient(o Options, load []profiles.Phase) error {
	if o.Client == nil {
		return nil
	}
	for _, ph := range load {
		if ph.Clients > 1 && ph.Clients != o.Client.Count {
			return fmt.Errorf("%w: --client %s: phase %s is split across %d clients (its clients: %d): give --client I/%d",
				ErrBadInput, o.Client, ph.Name, ph.Clients, ph.Clients, ph.Clients)
		}
		if _, err := profiles.SplitPhase(ph, *o.Client); err != nil {
			return fmt.Errorf("%w: --client %s: %w", ErrBadInput, o.Client, err)
		}
	}
	return nil
}

// shareOf records in a client's result which share of ph it sent.
func shareOf(ph profiles.Phase, part schema.Part) *schema.ClientShare {
	s := &schema.ClientShare{Part: part, Rate: ph.Rate.QPS, Seed: ph.Seed, MaxConcurrency: ph.MaxConcurrency}
	if ph.Ramp != nil {
		s.Ramp = &schema.Ramp{Strategy: ph.Ramp.Strategy, From: float64(ph.Ramp.From.QPS), To: float64(ph.Ramp.To.QPS)}
	}
	return s
}

// gate starts the measured part of a phase once every client of this
// process has finished its warmup: the last to arrive runs start (reset
// the prefix cache, start the server's metrics) once for all, and then all
// go on together. A client whose run ends without arriving leaves, so the
// others do not wait for it.
type gate struct {
	mu      sync.Mutex
	pending int // clients that have neither arrived nor left
	open    chan struct{}
	start   func()
}

func newGate(clients int, start func()) *gate {
	return &gate{pending: clients, open: make(chan struct{}), start: start}
}

// member is one client's handle on the gate.
type member struct {
	g    *gate
	done bool // arrived or left
}

func (g *gate) member() *member { return &member{g: g} }

// arrive waits until every other client has arrived or left (or ctx ends).
func (m *member) arrive(ctx context.Context) error {
	m.settle()
	select {
	case <-m.g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave says the client will not arrive; after arrive it does nothing.
func (m *member) leave() { m.settle() }

// settle counts the client once, and opens the gate when it was the last.
func (m *member) settle() {
	g := m.g
	g.mu.Lock()
	if m.done {
		g.mu.Unlock()
		return
	}
	m.done = true
	g.pending--
	last := g.pending == 0
	g.mu.Unlock()
	if last {
		g.start()
		close(g.open)
	}
}
