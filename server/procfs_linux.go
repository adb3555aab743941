package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// GroupAlive reports whether any live (not zombie) process is in the
// process group pgid. kill(-pgid, 0) alone would count zombies that are
// waiting for their new parent to reap them.
func GroupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, pgrp, ok := procStat(pid)
		if ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// ProcessAlive reports whether pid is a live process: a zombie waiting for
// its reaper holds nothing (no cores, no port) and counts as gone.
func ProcessAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	state, _, ok := procStat(pid)
	if !ok { // reaped just now: trust kill(2) again
		return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	return state != 'Z' && state != 'X'
}

// procStat returns the state and process group of pid from /proc/<pid>/stat.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ..."; comm may hold spaces and parens.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0][0], pgrp, err == nil
}

// tcpPort describes the TCP sockets bound to a local port, from
// /proc/net/tcp and /proc/net/tcp6.
type tcpPort struct {
	listenInodes []string // sockets listening on the port
	transient    bool     // connections on the port (TIME_WAIT and such)
}

// scanTCPPort reads the kernel's TCP tables for sockets on port; ok is
// false when the tables cannot be read.
func scanTCPPort(port int) (tp tcpPort, ok bool) {
	want := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		ok = true
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || !strings.HasSuffix(fs[1], want) {
				continue
			}
			if fs[3] == "0A" { // TCP_LISTEN
				tp.listenInodes = append(tp.listenInodes, fs[9])
			} else {
				tp.transient = true
			}
		}
		f.Close()
	}
	return tp, ok
}

// socketOwners names the processes ("pid 42 (python3)") that hold the
// sockets with the given inodes, as far as /proc lets us see.
func socketOwners(inodes []string) []string {
	if len(inodes) == 0 {
		return nil
	}
	want := make(map[string]bool, len(inodes))
	for _, ino := range inodes {
		want["socket:["+ino+"]"] = true
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var owners []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && want[target] {
				comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
				owners = append(owners, fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm))))
				break
			}
		}
	}
	return owners
}
