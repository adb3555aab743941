package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"loadgen/loadgen/schema"
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
	p, err := new(Owner).Start(context.Background(), cfg)
	if err == nil {
		p.Kill()
		p.Stop(context.Background())
		t.Fatal("Start succeeded on a taken port")
	}
	if ClassOf(err) != schema.FailureAddressInUse {
		t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), schema.FailureAddressInUse, err)
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
			p, err := new(Owner).Start(context.Background(), cfg)
			if err == nil {
				p.Kill()
				p.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if ClassOf(err) != schema.FailureCommandNotFound {
				t.Fatalf("class = %q, want %q (err: %v)", ClassOf(err), schema.FailureCommandNotFound, err)
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
	if _, err := new(Owner).Start(ctx, fakeConfig(t, modeReady)); ClassOf(err) != schema.FailureInterrupted {
		t.Fatalf("Start with a cancelled context = %v, want class %q", err, schema.FailureInterrupted)
	}
}

// TestCheckPort_whileForking checks that checkPort does not trip over its
// own probe sockets when other goroutines start processes meanwhile (as
// parallel Starts and their watchdogs do): a child forked while a probe is
// open would hold it until it execs, and the exclusive bind would fail.
func TestCheckPort_whileForking(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					_ = exec.Command("/bin/true").Run()
				}
			}
		})
	}
	defer wg.Wait()
	defer close(stop)
	for range 200 {
		port := ports.Free(t) // it may skip ports; the second check may not fail
		if err := checkPort("127.0.0.1", port); err != nil {
			t.Fatalf("checkPort on a free port while forking: %v", err)
		}
	}
}
