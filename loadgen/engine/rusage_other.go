//go:build !unix

package engine

import "time"

// cpuTime is unknown here.
func cpuTime() time.Duration { return 0 }
