package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Bounds of Stop after the grace period.
const (
	killWait = 10 * time.Second // for the group to vanish after SIGKILL
	portWait = 10 * time.Second // for the port to become free
	goneTick = 20 * time.Millisecond
)

// Owner holds the servers that were started through it and not given up
// yet (Process.reap), so that whoever owns them can kill them all at once:
// main on the second Ctrl-C, in its deferred cleanup and on a panic; a
// sweep for the servers it started; a test for its own. Owners are
// independent: KillAll reaches only its own servers, never another
// owner's in the same process. The zero value is an owner of no servers.
type Owner struct {
	mu sync.Mutex
	m  map[int]*Process // by process group id
}

func (o *Owner) register(p *Process) {
	o.mu.Lock()
	if o.m == nil {
		o.m = make(map[int]*Process)
	}
	o.m[p.pid] = p
	o.mu.Unlock()
}

func (o *Owner) unregister(pgid int) {
	o.mu.Lock()
	delete(o.m, pgid)
	o.mu.Unlock()
}

// size is the number of the owner's servers not given up yet.
func (o *Owner) size() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.m)
}

// KillAll sends SIGKILL to the process group of every server the owner
// started and has not stopped yet, one right after the other, then
// disposes of their watchdogs, which have nothing left to do. It waits
// only for the watchdogs to die, not for the servers. It is for the exit,
// second-signal and panic paths; after it, call Stop on each Process (or
// exit). The owner may start servers afterwards; a later KillAll reaches
// those too.
func (o *Owner) KillAll() {
	o.mu.Lock()
	ps := make([]*Process, 0, len(o.m))
	for _, p := range o.m {
		ps = append(ps, p)
	}
	o.mu.Unlock()
	for _, p := range ps {
		if p.kill() == nil {
			p.wd.dispose()
		}
	}
}

// signalGroup sends sig to the process group pgid; a group that is gone
// already is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return fmt.Errorf("refusing to signal process group %d", pgid)
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, pgid, err)
	}
	return nil
}

// Kill sends SIGKILL to the server's whole process group at once (the
// user's second Ctrl-C) and returns without waiting; Stop still waits.
// It is idempotent and a no-op for a remote server.
func (p *Process) Kill() {
	if p.remote {
		return
	}
	_ = p.kill()
}

// kill marks the server as being stopped and SIGKILLs its group.
func (p *Process) kill() error {
	p.stopping.Store(true)
	return p.signal(syscall.SIGKILL)
}

// signal sends sig to the server's process group, unless loadgen has given
// the group id up (reap) or, where the leader is reaped already, no live
// process is left to keep the id ours.
func (p *Process) signal(sig syscall.Signal) error {
	p.reapMu.Lock()
	defer p.reapMu.Unlock()
	if p.released || (p.leaderReaped && !GroupAlive(p.pid)) {
		return nil
	}
	return signalGroup(p.pid, sig)
}

// reap gives the server's process group up once no live process is left
// in it: it disposes of the watchdog, then reaps the leader, whose zombie
// kept the group id ours until now (watchdog.go), and forgets the group.
// Call it only after the leader has exited.
func (p *Process) reap() {
	p.reapOnce.Do(func() {
		p.wd.dispose()
		p.reapMu.Lock()
		if !p.leaderReaped {
			_ = p.cmd.Wait() // returns at once: the leader is a zombie
			p.leaderReaped = true
		}
		p.released = true
		p.reapMu.Unlock()
		p.owner.unregister(p.pid)
	})
}

// Stop ends the server: SIGTERM to its process group, up to
// Config.StopGrace for every member to exit (vLLM tears down its engine
// and releases the NeuronCores), then SIGKILL to the group. Once no
// process of the group remains, it disposes of the watchdog and reaps the
// server. It returns once the log is complete and the port is free again,
// each wait bounded; the error says what remained (a group that outlives
// SIGKILL keeps its watchdog). A cancelled ctx skips the rest of the grace
// period. Stop is idempotent (later calls return the first result) and a
// no-op for a remote server.
func (p *Process) Stop(ctx context.Context) error {
	if p.remote {
		return nil
	}
	p.stopOnce.Do(func() { p.stopErr = p.stop(ctx) })
	return p.stopErr
}

func (p *Process) stop(ctx context.Context) error {
	p.stopping.Store(true)
	var errs []error
	if !p.gone() {
		if err := p.signal(syscall.SIGTERM); err != nil {
			errs = append(errs, err)
		}
		if !p.waitGone(ctx, p.cfg.StopGrace) {
			if err := p.signal(syscall.SIGKILL); err != nil {
				errs = append(errs, err)
			}
			if !p.waitGone(context.Background(), killWait) {
				errs = append(errs, fmt.Errorf("stop %s: process group %d still has live processes %s after SIGKILL", p.cfg.Name, p.pid, killWait))
			}
		}
	}
	if p.gone() {
		p.reap()
	}
	t := time.NewTimer(killWait)
	select {
	case <-p.logDone:
	case <-t.C:
		errs = append(errs, fmt.Errorf("stop %s: the server's output stays open after its process group is gone (a process left the group?)", p.cfg.Name))
	}
	t.Stop()
	p.client.CloseIdleConnections()
	if err := waitPortFree(p.cfg.Host, p.cfg.Port, portWait); err != nil {
		errs = append(errs, fmt.Errorf("stop %s: %w", p.cfg.Name, err))
	}
	p.mu.Lock()
	if p.logErr != nil {
		errs = append(errs, p.logErr)
	}
	p.mu.Unlock()
	return errors.Join(errs...)
}

// gone reports whether the child has exited and no live process is left
// in its group.
func (p *Process) gone() bool {
	return p.hasExited() && !GroupAlive(p.pid)
}

// waitGone waits until gone, for at most limit or until ctx is done.
func (p *Process) waitGone(ctx context.Context, limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(goneTick)
	defer tick.Stop()
	exited := p.exited
	for {
		if p.gone() {
			return true
		}
		select {
		case <-ctx.Done():
			return p.gone()
		case <-deadline.C:
			return p.gone()
		case <-exited:
			exited = nil // fires once; then the ticker watches the group
		case <-tick.C:
		}
	}
}
