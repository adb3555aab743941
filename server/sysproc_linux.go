package server

import "syscall"

// sysProcAttr puts the server in its own process group, so that it and
// everything it spawns can be signalled together. Pdeathsig is the first
// safety net for when loadgen dies without running its cleanup: the kernel
// kills the server's main process (only that one; the watchdog,
// watchdog.go, kills the rest of the group) when the OS thread that
// started it exits. Start therefore starts and waits from one goroutine
// locked to its thread (golang/go#27505), so that the thread lives as long
// as the child.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
