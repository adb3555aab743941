package server

import (
	"fmt"
	"syscall"
	"testing"

	"loadgen/loadgen/schema"
)

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
		{"free", ports.Free(t), ""},
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
			if ClassOf(err) != schema.FailureAddressInUse {
				t.Fatalf("checkPort = %v, want class %q", err, schema.FailureAddressInUse)
			}
			contains(t, "error", err.Error(), fmt.Sprintf("port %d", tc.port), tc.want)
		})
	}
}
