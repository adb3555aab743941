package testkit

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Ports hands out loopback ports from [low, high): below the kernel's
// ephemeral range (32768 and up), so that no outgoing connection or
// bind(":0") takes one between a pre-flight check and a server binding it.
// Give test packages that may run at the same time disjoint ranges. The
// starting point is random per process, so that back-to-back runs do not
// reuse ports whose connections linger in TIME_WAIT.
type Ports struct {
	low, high int
	next      atomic.Int32
}

// NewPorts returns the ports of [low, high).
func NewPorts(low, high int) *Ports {
	p := &Ports{low: low, high: high}
	p.next.Store(int32(low + rand.IntN((high-low)/10)*10))
	return p
}

// Free returns a port no other caller of p gets and that is free now.
func (p *Ports) Free(t testing.TB) int {
	t.Helper()
	for range 1000 {
		port := int(p.next.Add(1))
		if port >= p.high {
			p.next.Store(int32(p.low))
			continue
		}
		if bindExclusive(port) == nil {
			return port
		}
	}
	t.Fatalf("testkit: no free port in [%d, %d)", p.low, p.high)
	return 0
}

// bindExclusive binds 127.0.0.1:port without SO_REUSEADDR, which fails
// also while connections of an earlier user of the port linger in
// TIME_WAIT: a port that passes is not in the kernel's tables at all. It
// holds syscall.ForkLock for reading meanwhile: a child forked by another
// goroutine would hold the probe socket until it execs, listening on the
// port that Free hands out.
func bindExclusive(port int) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
		})
		return errors.Join(err, serr)
	}}
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	return l.Close()
}

// WaitFor polls cond every 10 ms until it holds, failing the test after
// limit. The limit is a safety net, never the assertion: the conditions
// waited for hold within seconds.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
