//go:build unix && !linux

package server

import (
	"os/exec"
	"syscall"
)

// watchdogs is false: without waitid's WNOWAIT here, the leader is reaped
// when it exits, its group id may be recycled once the group empties, and
// a watchdog could then fire at a stranger's group (see watchdog.go).
const watchdogs = false

// awaitExit waits for and reaps the child cmd started.
func awaitExit(cmd *exec.Cmd) (ws syscall.WaitStatus, reaped bool, err error) {
	return reapNow(cmd)
}
