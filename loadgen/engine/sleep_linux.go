//go:build linux

package engine

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// fineTimer is a timerfd(2) read through the Go netpoller. The runtime's
// own timers wait in epoll_pwait, whose millisecond timeout makes a
// sub-millisecond timer fire up to 1 ms late (0.5 ms on average) on an idle
// process. A timerfd expires with nanosecond resolution and wakes the
// netpoller as an I/O event: no CPU is spent and no OS thread is blocked
// while waiting. When every P is busy the netpoller is polled less often,
// but then the runtime timer fires on time, so the dispatcher waits on both
// and takes whichever comes first.
type fineTimer struct {
	f     *os.File
	fd    uintptr
	fired chan struct{} // a token per expiry (stale tokens are harmless)
	done  chan struct{} // closed when the reader goroutine has exited
}

// itimerspec is struct itimerspec of timerfd_settime(2).
type itimerspec struct {
	interval, value syscall.Timespec
}

const clockMonotonic = 1

func newFineTimer() (*fineTimer, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic,
		syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, fmt.Errorf("timerfd_create: %w", errno)
	}
	// A non-blocking descriptor makes the File pollable by the netpoller.
	t := &fineTimer{f: os.NewFile(fd, "timerfd"), fd: fd,
		fired: make(chan struct{}, 1), done: make(chan struct{})}
	go t.read()
	return t, nil
}

// read turns expiries into tokens until the timer is closed.
func (t *fineTimer) read() {
	defer close(t.done)
	var buf [8]byte
	for {
		if _, err := t.f.Read(buf[:]); err != nil {
			return
		}
		select {
		case t.fired <- struct{}{}:
		default:
		}
	}
}

// arm makes the timer expire after d (≥ 1 ns), replacing any earlier
// setting. It reports false if the kernel refused.
func (t *fineTimer) arm(d time.Duration) bool {
	its := itimerspec{value: syscall.NsecToTimespec(int64(max(d, 1)))}
	_, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, t.fd, 0, uintptr(unsafe.Pointer(&its)), 0, 0, 0)
	return errno == 0
}

// close stops the timer and waits for its reader.
func (t *fineTimer) close() {
	_ = t.f.Close()
	<-t.done
}
