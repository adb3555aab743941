// Command loadgen measures how vllm-neuron server configurations behave
// online: it launches each configuration of a profile, waits through the
// Neuron compile, drives reranker load under open- and closed-loop arrival
// processes, and writes ranked reports. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"loadgen/loadgen"
	"loadgen/server"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run owns the process-level concerns: signals, the last-resort cleanup of
// server process groups, and mapping errors to exit codes. Every server a
// command launches belongs to the owner run creates, and to no other: run
// kills those and only those, so that several runs in one process (the
// tests) never reach each other's servers.
//
// The first SIGINT, SIGTERM or SIGHUP (an ssh session that dropped)
// cancels the context: commands stop sending, drain, write partial results
// and stop their server. The second kills every process group loadgen
// started, at once, marks the sweep in progress interrupted in its
// manifest (loadgen.HardStop), and exits 130. SIGPIPE (`loadgen … | tee log` after tee
// died) is caught so that a write to a closed pipe fails instead of killing
// loadgen before it has cleaned up.
func run(args []string, stdout, stderr io.Writer) (code int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	servers := new(server.Owner)
	hard := new(loadgen.HardStop)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	pipes := make(chan os.Signal, 1)
	signal.Notify(pipes, syscall.SIGPIPE)
	defer signal.Stop(pipes)
	note := interruptNote(args)
	go func() {
		first := true
		for s := range sigs {
			if first {
				first = false
				fmt.Fprintf(stderr, "\nloadgen: %s: %s\n", s, note)
				cancel()
				continue
			}
			fmt.Fprintf(stderr, "loadgen: %s again: killing the server process group\n", s)
			servers.KillAll()
			// The servers are gone; the record of the sweep must not say
			// it still runs.
			for _, line := range hard.Now() {
				fmt.Fprintf(stderr, "loadgen: %s\n", line)
			}
			os.Exit(exitInterrupted)
		}
	}()

	// Whatever happens below, no process group we started outlives us. (A
	// panic in another goroutine runs none of this: the server package's
	// watchdog kills the groups then.)
	defer servers.KillAll()
	defer func() {
		if r := recover(); r != nil {
			servers.KillAll()
			fmt.Fprintf(stderr, "loadgen: internal error: %v\n%s", r, debug.Stack())
			code = exitFailed
		}
	}()

	app := newApp(stdout, stderr, servers, hard)
	err := app.RunContext(ctx, interspersed(app, args))
	return exitCode(ctx, err, stderr)
}

// interruptNote is what the first signal prints: commands that run load
// keep partial results and stop their server; the others (the simulator,
// whose log this lands in) just stop.
func interruptNote(args []string) string {
	if len(args) > 1 {
		switch args[1] {
		case "sweep", "run", "selftest":
			return "stopping gracefully (partial results are kept); send it again to kill the server now"
		}
	}
	return "stopping"
}
