package server

import (
	"encoding/binary"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"unsafe"
)

// watchdogs reports whether Start gives servers a watchdog (watchdog.go):
// only where awaitExit can leave the leader unreaped.
const watchdogs = true

// pPID is waitid's idtype for one process id.
const pPID = 1

// awaitExit blocks until the child cmd started has exited and returns how
// it ended. It leaves the child a zombie (waitid with WNOWAIT), so that its
// process id, which is also its group's id, cannot be handed out again
// until Process.reap calls cmd.Wait; reaped is false. Should waitid fail,
// it falls back to cmd.Wait and says reaped.
func awaitExit(cmd *exec.Cmd) (ws syscall.WaitStatus, reaped bool, err error) {
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(cmd.Process.Pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return reapNow(cmd)
		}
		return siginfoStatus(info[:]), false, nil
	}
}

// CLD_* codes of a SIGCHLD siginfo.
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// siginfoStatus turns the siginfo_t that waitid filled in into the wait
// status that wait4 would have returned. The layout is Linux's: si_signo,
// si_errno, si_code (errno and code swapped on MIPS), then, aligned to a
// pointer, si_pid, si_uid, si_status.
func siginfoStatus(info []byte) syscall.WaitStatus {
	codeAt := 8
	if strings.HasPrefix(runtime.GOARCH, "mips") {
		codeAt = 4
	}
	union := 12 + int(unsafe.Sizeof(uintptr(0))) - 4
	code := int32(binary.NativeEndian.Uint32(info[codeAt:]))
	status := syscall.WaitStatus(binary.NativeEndian.Uint32(info[union+8:]))
	switch code {
	case cldExited:
		return status << 8
	case cldKilled:
		return status
	case cldDumped:
		return status | 0x80
	default:
		return status
	}
}
