//go:build linux

package loadgen

import (
	"syscall"
	"time"
)

// fineSleep sleeps d with nanosleep(2), which wakes within tens of µs. The
// Go runtime's timers wait in epoll_pwait, whose millisecond timeout makes
// a sub-millisecond timer fire up to 1 ms late (0.5 ms on average); the
// dispatcher uses this for the last stretch before an arrival is due. It
// blocks its OS thread, never for more than fineWindow.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
