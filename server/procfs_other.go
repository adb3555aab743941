//go:build unix && !linux

package server

import (
	"errors"
	"syscall"
)

// GroupAlive reports whether any process is in the process group pgid.
// Without /proc, zombies awaiting their reaper count as alive.
func GroupAlive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}

// ProcessAlive reports whether pid exists. Without /proc, a zombie
// awaiting its reaper counts as alive.
func ProcessAlive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// tcpPort describes the TCP sockets bound to a local port.
type tcpPort struct {
	listenInodes []string
	transient    bool
}

// scanTCPPort is not available without /proc; ok is always false.
func scanTCPPort(int) (tcpPort, bool) { return tcpPort{}, false }

// socketOwners is not available without /proc.
func socketOwners([]string) []string { return nil }

// procStat is not available without /proc.
func procStat(int) (state byte, pgrp int, ok bool) { return 0, 0, false }
