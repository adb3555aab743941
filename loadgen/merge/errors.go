package merge

import (
	"errors"
	"fmt"
)

// ErrMismatch marks inputs that cannot be merged: different profiles,
// overlapping configurations, shards of different sweeps, a missing
// shard. Nothing was written.
var ErrMismatch = errors.New("results cannot be merged")

func mismatch(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMismatch, fmt.Sprintf(format, a...))
}
