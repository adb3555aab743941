//go:build linux

package loadgen

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// fineTimer waits on a timerfd(2) through the Go netpoller. The runtime's
// own timers wait in epoll_pwait, whose millisecond timeout makes a
// sub-millisecond timer fire up to 1 ms late (0.5 ms on average). A timerfd
// expires with nanosecond resolution and wakes the netpoller as an I/O
// event, so the dispatcher's last stretch before an arrival is due costs no
// CPU, blocks no OS thread and is late by tens of µs, not hundreds.
type fineTimer struct {
	f   *os.File
	fd  uintptr
	buf [8]byte
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
	return &fineTimer{f: os.NewFile(fd, "timerfd"), fd: fd}, nil
}

// sleep waits d (≥ 1 ns).
func (t *fineTimer) sleep(d time.Duration) {
	its := itimerspec{value: syscall.NsecToTimespec(int64(max(d, 1)))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, t.fd, 0,
		uintptr(unsafe.Pointer(&its)), 0, 0, 0); errno != 0 {
		time.Sleep(d)
		return
	}
	if _, err := t.f.Read(t.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (t *fineTimer) close() { _ = t.f.Close() }
