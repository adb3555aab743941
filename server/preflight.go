package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"loadgen/loadgen/schema"
)

// CheckCommand reports, as an *Error of class FailureCommandNotFound,
// whether cfg's command cannot be found (Start checks it too); a remote
// config launches nothing and always passes. A sweep checks it for every
// configuration before it starts anything.
func CheckCommand(cfg Config) error {
	if cfg.Remote() {
		return nil
	}
	_, err := lookCommand(cfg)
	return err
}

// lookCommand finds cfg.Argv[0] in PATH.
func lookCommand(cfg Config) (string, error) {
	if len(cfg.Argv) == 0 || cfg.Argv[0] == "" {
		return "", &Error{Class: schema.FailureCommandNotFound,
			Reason: "no server command is configured; on a machine without Inferentia, use --simulate"}
	}
	path, err := exec.LookPath(cfg.Argv[0])
	if err != nil {
		return "", &Error{Class: schema.FailureCommandNotFound, Err: err,
			Reason: fmt.Sprintf("%q is not in PATH (is vLLM's virtualenv activated?); on a machine without Inferentia, use --simulate", cfg.Argv[0])}
	}
	return path, nil
}

// probeHost is the address to connect to for a server bound to host.
func probeHost(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return DefaultHost
	}
	return host
}

// checkPort returns an *Error of class FailureAddressInUse unless host:port
// is free: nothing accepts connections there, we can bind it, and no other
// socket is bound to it. vLLM binds with SO_REUSEADDR and SO_REUSEPORT
// long before it listens, so a leftover server still compiling would not
// stop a new one from binding, and once both listen they would share the
// connections; hence the third check.
func checkPort(host string, port int) error {
	where := net.JoinHostPort(host, strconv.Itoa(port))
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(probeHost(host), strconv.Itoa(port)), time.Second); err == nil {
		c.Close()
		return portInUse(host, port, "something accepts connections there", nil)
	}
	// A child that another goroutine forks while our probe sockets are
	// open holds them until it execs, and the exclusive bind would then
	// fail on our own probe; holding ForkLock for reading keeps forks out
	// meanwhile (what it is for: Go forks with it held for writing).
	syscall.ForkLock.RLock()
	err := listenOnce(where)
	var berr error
	if err == nil {
		berr = bindExclusive(where)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return portInUse(host, port, "", err)
	}
	if err := berr; err != nil {
		// A bind without SO_REUSEADDR also fails on connections lingering in
		// TIME_WAIT, which are harmless; only blame a silent socket when
		// the kernel lists no connection on the port.
		if tp, ok := scanTCPPort(port); ok && !tp.transient {
			return portInUse(host, port, "another process has bound it and is not listening yet (a vLLM server still starting?)", err)
		}
	}
	return nil
}

// listenOnce listens on addr and closes the listener again.
func listenOnce(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// bindExclusive binds addr without SO_REUSEADDR and closes it again.
func bindExclusive(addr string) error {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
		})
		return errors.Join(err, serr)
	}}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// portInUse builds the address-in-use error, naming who holds the port
// when /proc tells.
func portInUse(host string, port int, detail string, err error) error {
	if tp, ok := scanTCPPort(port); ok {
		if owners := socketOwners(tp.listenInodes); len(owners) > 0 {
			detail = "held by " + strings.Join(owners, ", ")
		}
	}
	if detail == "" && err != nil {
		detail = err.Error()
	}
	if host == "" {
		host = "all interfaces"
	}
	return &Error{Class: schema.FailureAddressInUse, Err: err,
		Reason: fmt.Sprintf("port %d on %s is already in use (%s); stop it or choose another server.port", port, host, detail)}
}

// waitPortFree polls checkPort until the port is free or limit passes.
func waitPortFree(host string, port int, limit time.Duration) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := checkPort(host, port)
		if err == nil {
			return nil
		}
		select {
		case <-deadline.C:
			return err
		case <-tick.C:
		}
	}
}
