package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/loadgen/engine"
	"loadgen/loadgen/schema"
	"loadgen/server"
)

// selftestCommand prints loadgen's own fidelity and speed figures: timing
// accuracy against a server with known delays, schedule accuracy, closed-loop
// capacity with client CPU per request, and memory over a long run.
func selftestCommand(servers *server.Owner) *cli.Command {
	return &cli.Command{
		Name:  "selftest",
		Usage: "measure loadgen's own accuracy, schedule fidelity, capacity and memory",
		Description: "Without --url, schedule, capacity and memory run against the simulator in zero-latency mode,\n" +
			"launched as a child process (its CPU is not counted as the client's). Accuracy always runs\n" +
			"against an in-process server whose delays are known exactly. Every figure has a target (each\n" +
			"line ends in ok=true or ok=false); selftest exits 1 when one is missed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "measure against the server at `URL` instead of the simulator (it must serve a model named \"m\")"},
			&cli.StringFlag{Name: "only", Value: strings.Join(selftestFigures, ","), Usage: "measure only these comma-separated `FIGURES`"},
			&cli.IntFlag{Name: "concurrency", Value: 32, Usage: "max_concurrency of the capacity and memory runs"},
			&cli.IntFlag{Name: "capacity-requests", Value: 200000, Usage: "requests of the capacity run"},
			&cli.IntFlag{Name: "memory-requests", Value: 1000000, Usage: "requests of the memory run"},
			&cli.Float64Flag{Name: "rate", Value: 2000, Usage: "arrival rate of the schedule runs (requests/s)"},
			&cli.StringFlag{Name: "serve", Usage: "measure nothing: serve loadgen's zero-latency completions endpoint on `ADDR` (host:port) until interrupted, a target for other load generators"},
			&cli.StringFlag{Name: "write-body", Usage: "measure nothing: write the capacity run's request body (a reranker request of 8 prompts) to `FILE`, for other load generators"},
		},
		Action: func(c *cli.Context) error {
			ctx, w := c.Context, c.App.Writer
			if addr := c.String("serve"); addr != "" {
				return serveFast(ctx, w, addr)
			}
			if file := c.String("write-body"); file != "" {
				if err := os.WriteFile(file, engine.RerankRequest().Body, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(w, "wrote %s (%d bytes)\n", file, len(engine.RerankRequest().Body))
				return nil
			}
			only, err := splitList("only", c.String("only"), selftestFigures)
			if err != nil {
				return err
			}
			want := map[string]bool{}
			for _, s := range only {
				want[s] = true
			}
			url := c.String("url")
			fmt.Fprintf(w, "host: %d CPUs, load average %s (figures move with the host's load)\n", runtime.NumCPU(), loadAverage())
			if url == "" && (want["schedule"] || want["capacity"] || want["memory"]) {
				u, stop, err := startZeroLatencySim(ctx, servers)
				if err != nil {
					return err
				}
				defer stop()
				url = u
				fmt.Fprintf(w, "server: %s — loadgen's simulator in zero-latency mode (SIMULATED server; the figures are the client's)\n", url)
			}
			fmt.Fprintln(w)
			var missed []string
			check := func(name string, f interface{ OK() bool }) {
				fmt.Fprintln(w, f)
				if !f.OK() {
					missed = append(missed, name)
				}
			}
			if want["accuracy"] {
				f, err := engine.MeasureAccuracy(ctx, 1000, 10000)
				if err != nil {
					return err
				}
				check("accuracy", f)
			}
			if want["schedule"] {
				rate := schema.Rate(c.Float64("rate"))
				for _, ph := range []engine.Phase{
					{Name: "poisson", Arrival: schema.ArrivalPoisson, Rate: rate, Queries: 20000, Seed: 1},
					{Name: "gamma", Arrival: schema.ArrivalGamma, Rate: rate, Burstiness: 0.5, Queries: 20000, Seed: 1},
					{Name: "constant", Arrival: schema.ArrivalConstant, Rate: rate, Queries: 20000, Seed: 1},
				} {
					f, err := engine.MeasureSchedule(ctx, url, ph)
					if err != nil {
						return err
					}
					check("schedule ("+ph.Name+")", f)
				}
			}
			if want["capacity"] {
				f, err := engine.MeasureCapacity(ctx, url, c.Int("concurrency"), c.Int("capacity-requests"))
				if err != nil {
					return err
				}
				check("capacity", f)
			}
			if want["memory"] {
				f, err := engine.MeasureMemory(ctx, url, c.Int("concurrency"), c.Int("memory-requests"))
				if err != nil {
					return err
				}
				check("memory", f)
			}
			if len(missed) > 0 {
				return fmt.Errorf("selftest: targets missed: %s", strings.Join(missed, ", "))
			}
			return nil
		},
	}
}

// serveFast serves engine.FastHandler on addr until ctx ends.
func serveFast(ctx context.Context, w io.Writer, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return asUsage(fmt.Errorf("--serve: %w", err))
	}
	srv := &http.Server{Handler: engine.FastHandler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(w, "serving loadgen's zero-latency completions endpoint on http://%s/v1/completions (model \"m\"); Ctrl-C stops it\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = srv.Close()
		<-done
		return nil
	}
}

// loadAverage returns the host's 1, 5 and 15 minute load averages, or
// "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// selftestFigures are the figures selftest measures, in the order it
// measures them.
var selftestFigures = []string{"accuracy", "schedule", "capacity", "memory"}

// startZeroLatencySim launches `loadgen sim serve` in zero-latency mode,
// owned by servers, through the same server lifecycle as a sweep, and
// returns its URL and a function that stops it.
func startZeroLatencySim(ctx context.Context, servers *server.Owner) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	port, err := loadgen.FreePort()
	if err != nil {
		return "", nil, err
	}
	cfg := server.Config{
		Name: "selftest",
		Argv: []string{exe, "sim", "serve", "m", "--served-model-name", "m", "--host", "127.0.0.1",
			"--port", fmt.Sprint(port), "--max-model-len", "2048", "--max-num-seqs", "256", "--no-enable-prefix-caching",
			"--additional-config", `{"override_neuron_config":{"on_device_sampling_config":null}}`},
		Env:         []string{"LOADGEN_SIM_ZERO_LATENCY=1"},
		Host:        "127.0.0.1",
		Port:        port,
		ServedModel: "m",
	}
	p, err := servers.Start(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	stop := func() { _ = p.Stop(context.WithoutCancel(ctx)) }
	if err := p.WaitReady(ctx, nil); err != nil {
		stop()
		return "", nil, err
	}
	return p.BaseURL(), stop, nil
}
