package server

import "syscall"

// sysProcAttr puts the server in its own process group, so that it and
// everything it spawns can be signalled together. Pdeathsig is a safety
// net for when loadgen dies without running its cleanup: the kernel kills
// the server when the OS thread that started it exits. Start therefore
// starts and waits from one goroutine locked to its thread
// (golang/go#27505), so that the thread lives exactly as long as the child.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
