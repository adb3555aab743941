package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/server"
	"loadgen/server/neuron"
	"loadgen/server/sim"
)

func simCommand(servers *server.Owner) *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "the simulated vllm-neuron server",
		Subcommands: []*cli.Command{{
			Name:      "serve",
			Usage:     "serve the OpenAI-compatible API like `vllm serve` on vllm-neuron would (SIMULATED)",
			ArgsUsage: "MODEL [vllm serve flags] [--sim-* flags]",
			Description: "Accepts the argv of `vllm serve` (and its environment: NEURON_COMPILED_ARTIFACTS,\n" +
				"NEURON_RT_VISIBLE_CORES, VLLM_SERVER_DEV_MODE) and models vllm-neuron: compile delay and\n" +
				"artifact cache, one prefill per engine step, bucket padding, prefix-caching cost, missing\n" +
				"logprobs under on-device sampling, known startup failures. `loadgen sweep --simulate` launches\n" +
				"it in place of vllm. Run `loadgen sim serve --help` for the --sim-* flags.",
			SkipFlagParsing: true,
			Action: func(c *cli.Context) error {
				return sim.Main(c.Context, c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
			},
		}, checkSearchCommand(servers)},
	}
}

// simFlags are the simulator settings of commands that can --simulate.
func simFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "sim-speed", Value: loadgen.DefaultSimSpeed, Usage: "with --simulate: divide all simulated time (1 = calibrated real time; other values scale the results too)", EnvVars: envVars("sim-speed")},
		&cli.Float64Flag{Name: "sim-startup-speed", Value: loadgen.DefaultSimStartupSpeed, Usage: "with --simulate: further divide the simulated startup and compile only", EnvVars: envVars("sim-startup-speed")},
		&cli.Int64Flag{Name: "sim-seed", Usage: "with --simulate: seed of the simulator's jitter", EnvVars: envVars("sim-seed")},
		&cli.StringFlag{Name: "sim-stack", Usage: "with --simulate: the vllm-neuron `STACK` to simulate (" + strings.Join(neuron.Names(), ", ") + ")", DefaultText: "the profile's server.stack, else " + neuron.DefaultName, EnvVars: envVars("sim-stack")},
	}
}

func simOptions(c *cli.Context) loadgen.SimOptions {
	return loadgen.SimOptions{
		Speed:        c.Float64("sim-speed"),
		StartupSpeed: c.Float64("sim-startup-speed"),
		Seed:         c.Int64("sim-seed"),
		Stack:        c.String("sim-stack"),
	}
}
