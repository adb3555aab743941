//go:build unix && !linux

package server

import "syscall"

// sysProcAttr puts the server in its own process group, so that it and
// everything it spawns can be signalled together.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
