package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestStart_portTaken(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := fakeConfig(t, modeReady)
	cfg.Port = l.Addr().(*net.TCPAddr).Port
	p, err := Start(context.Background(), cfg)
	if err == nil {
		p.Kill()
		p.Stop(context.Background())
		t.Fatal("Start succeeded on a taken port")
	}
	if ClassOf(err) != FailureAddressInUse {
		t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), FailureAddressInUse, err)
	}
	// The holder is this test process, and /proc names it.
	contains(t, "error", err.Error(),
		fmt.Sprintf("address_in_use: port %d on 127.0.0.1 is already in use (held by pid %d", cfg.Port, os.Getpid()),
		"choose another server.port")
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans lines", err)
	}
	if _, statErr := os.Stat(cfg.Dir + "/" + LogFile); statErr == nil {
		t.Error("a failed pre-flight wrote server.log")
	}
}

// boundSocket binds 127.0.0.1:0 the way vLLM binds its port long before it
// listens (SO_REUSEADDR and SO_REUSEPORT), and returns the socket and port.
func boundSocket(t *testing.T) (fd, port int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	const soReusePort = 0xf // SO_REUSEPORT on Linux
	for _, opt := range []int{syscall.SO_REUSEADDR, soReusePort} {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, opt, 1); err != nil {
			t.Skipf("setsockopt: %v", err)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*syscall.SockaddrInet4).Port
}

func TestCheckPort(t *testing.T) {
	t.Parallel()
	_, bound := boundSocket(t)
	fd, reuseListening := boundSocket(t)
	if err := syscall.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		port int
		want string // "" = free
	}{
		// Nothing there.
		{"free", freePort(t), ""},
		// A leftover vLLM that has bound the port but is still compiling:
		// a plain bind would succeed and both servers would end up sharing
		// the port.
		{"bound, not listening", bound, "is not listening yet"},
		// A leftover vLLM that serves: our probes would reach it.
		{"listening with SO_REUSEPORT", reuseListening, "is already in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkPort("127.0.0.1", tc.port)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkPort = %v, want free", err)
				}
				return
			}
			if ClassOf(err) != FailureAddressInUse {
				t.Fatalf("checkPort = %v, want class %q", err, FailureAddressInUse)
			}
			contains(t, "error", err.Error(), fmt.Sprintf("port %d", tc.port), tc.want)
		})
	}
}

func TestStart_commandNotFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		argv []string
		want string
	}{
		// vllm is not installed or its venv is not active.
		{"not in PATH", []string{"vllm-not-installed-here", "serve", "m"}, `"vllm-not-installed-here" is not in PATH`},
		// A profile without a command at all.
		{"empty argv", nil, "no server command is configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := fakeConfig(t, modeReady)
			cfg.Argv = tc.argv
			p, err := Start(context.Background(), cfg)
			if err == nil {
				p.Kill()
				p.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if ClassOf(err) != FailureCommandNotFound {
				t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), FailureCommandNotFound, err)
			}
			contains(t, "error", err.Error(), "command_not_found: ", tc.want, "on a machine without Inferentia, use --simulate")
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

func TestStart_cancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, fakeConfig(t, modeReady)); ClassOf(err) != FailureInterrupted {
		t.Fatalf("Start with a cancelled context = %v, want class %q", err, FailureInterrupted)
	}
}
