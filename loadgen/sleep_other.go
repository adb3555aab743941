//go:build !linux

package loadgen

import (
	"errors"
	"time"
)

// fineTimer is unavailable here; the dispatcher waits on its timer alone.
type fineTimer struct{}

func newFineTimer() (*fineTimer, error) { return nil, errors.New("no timerfd on this system") }

func (*fineTimer) sleep(d time.Duration) { time.Sleep(d) }

func (*fineTimer) close() {}
