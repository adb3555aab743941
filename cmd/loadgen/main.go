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
	"syscall"

	"loadgen/server"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run owns the process-level concerns: signals, the last-resort cleanup of
// server process groups, and mapping errors to exit codes.
//
// The first SIGINT/SIGTERM cancels the context: commands stop sending,
// drain, write partial results and stop their server. The second kills every
// process group loadgen started, at once, and exits 130.
func run(args []string, stdout, stderr io.Writer) (code int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		first := true
		for s := range sigs {
			if first {
				first = false
				fmt.Fprintf(stderr, "\nloadgen: %s: stopping gracefully (partial results are kept); send it again to kill the server now\n", s)
				cancel()
				continue
			}
			fmt.Fprintf(stderr, "loadgen: %s again: killing the server process group\n", s)
			server.KillAll()
			os.Exit(exitInterrupted)
		}
	}()

	// Whatever happens below, no process group we started outlives us.
	defer server.KillAll()
	defer func() {
		if r := recover(); r != nil {
			server.KillAll()
			panic(r)
		}
	}()

	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, interspersed(app, args))
	return exitCode(ctx, err, stderr)
}
