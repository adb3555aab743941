package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// A profile that lists several core groups (server.neuron_cores) runs up
// to that many configurations at once, each on a free group with its own
// port (profiles.Config.Place); its results directory, log and compiled
// artifacts are the configuration's own as always. With server.measure:
// serial the servers start (compile) at once but are measured one at a
// time: a configuration is measured once it is ready and the one measured
// before it has stopped. Every phase result records its group and the
// configurations that ran beside it.

// slot is a core group and the port of the server that runs on it.
type slot struct {
	cores profiles.CoreSet
	port  int
}

// slots are the sweep's core groups with their ports, nil when the
// configurations run one after another (one group or none, a remote
// server). Group k listens on the plan's port + k, or on a free port when
// simulated.
func (s *sweeper) slots() ([]slot, error) {
	groups := s.plan.Profile.Server.NeuronCores
	if len(groups) <= 1 || len(s.plan.Configs) == 0 || s.plan.Configs[0].Server.URL != "" {
		return nil, nil
	}
	base := s.plan.Configs[0].Server.Port
	out := make([]slot, len(groups))
	for k, g := range groups {
		out[k] = slot{cores: g, port: base + k}
		if s.o.Simulate && k > 0 {
			p, err := FreePort()
			if err != nil {
				return nil, fmt.Errorf("core group %s: %w", g, err)
			}
			out[k].port = p
		}
	}
	return out, nil
}

// runGroups runs the configurations on the slots, each on the first free
// one, in plan order.
func (s *sweeper) runGroups(ctx context.Context, slots []slot) {
	free := make(chan slot, len(slots))
	for _, sl := range slots {
		free <- sl
	}
	if s.plan.Profile.Server.Measure == profiles.MeasureSerial {
		s.measure = make(chan struct{}, 1)
	}
	var wg sync.WaitGroup
	for i, c := range s.plan.Configs {
		if !s.shouldRun(ctx, i, c) {
			continue
		}
		var sl slot
		select {
		case sl = <-free:
		case <-ctx.Done():
			s.markInterrupted(c.Name)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { free <- sl }()
			cr := configRun{sweeper: s, c: c.Place(sl.cores, sl.port), idx: i, cores: sl.cores}
			cr.run(ctx)
			s.eta.configDone(s.o.Now())
		}()
	}
	wg.Wait()
}

// acquireMeasure waits for the turn to measure under server.measure:
// serial (at once otherwise); false when ctx ended first.
func (r *configRun) acquireMeasure(ctx context.Context) bool {
	if r.measure == nil {
		return true
	}
	select {
	case r.measure <- struct{}{}:
		r.measuring = true
		return true
	default:
	}
	r.pr.Eventf("%s: ready; waiting for the configuration being measured to stop (server.measure: serial)", r.tag())
	select {
	case r.measure <- struct{}{}:
		r.measuring = true
		return true
	case <-ctx.Done():
		return false
	}
}

// releaseMeasure gives the turn to measure to the next configuration once
// this one's server has stopped.
func (r *configRun) releaseMeasure() {
	if r.measuring {
		r.measuring = false
		<-r.measure
	}
}

// besides tracks which configurations' servers are up, so that a phase
// can record the configurations that ran beside it.
type besides struct {
	mu       sync.Mutex
	up       map[string]bool
	watching map[*beside]bool
}

// beside is one phase's record of the configurations that ran beside it.
type beside struct {
	self string
	seen map[string]bool
}

func newBesides() *besides {
	return &besides{up: map[string]bool{}, watching: map[*beside]bool{}}
}

// serverUp records that config's server is up: every phase measured now
// ran beside it.
func (b *besides) serverUp(config string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.up[config] = true
	for w := range b.watching {
		if w.self != config {
			w.seen[config] = true
		}
	}
}

// serverDown records that config's server has stopped.
func (b *besides) serverDown(config string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.up, config)
}

// watch starts recording for a phase of config.
func (b *besides) watch(config string) *beside {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := &beside{self: config, seen: map[string]bool{}}
	for c := range b.up {
		if c != config {
			w.seen[c] = true
		}
	}
	b.watching[w] = true
	return w
}

// end stops recording and returns the configurations that were up at any
// time, sorted (nil for none).
func (b *besides) end(w *beside) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.watching, w)
	var out []string
	for c := range w.seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// shouldRun says whether configuration i still runs: not after an
// interrupt (it is marked interrupted), not when a resumed sweep has it
// done.
func (s *sweeper) shouldRun(ctx context.Context, i int, c profiles.Config) bool {
	if ctx.Err() != nil {
		s.markInterrupted(c.Name)
		return false
	}
	if !s.needsRun(c.Name) {
		s.pr.Eventf("[%d/%d] %s: already done (resume)", i+1, len(s.plan.Configs), c.Name)
		s.eta.configDone(s.o.Now())
		return false
	}
	return true
}

// markInterrupted records that a configuration that had not finished was
// stopped by the interrupt.
func (s *sweeper) markInterrupted(config string) {
	s.m.config(config, func(cs *schema.ConfigStatus) {
		if cs.Status == schema.StatusPending || cs.Status == schema.StatusRunning {
			cs.Status = schema.StatusInterrupted
		}
	})
}
