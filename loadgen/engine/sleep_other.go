//go:build !linux

package engine

import (
	"errors"
	"time"
)

// fineTimer is unavailable here; the dispatcher waits on its timer alone.
type fineTimer struct{ fired chan struct{} }

func newFineTimer() (*fineTimer, error) { return nil, errors.New("no timerfd on this system") }

func (*fineTimer) arm(time.Duration) bool { return false }

func (*fineTimer) close() {}
