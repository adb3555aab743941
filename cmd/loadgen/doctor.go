package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"loadgen/profiles"
	"loadgen/server"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check the Inferentia host before a sweep: versions, NeuronCores, disk, model, known quirks",
		ArgsUsage: "[PROFILE]   (default: the shipped profiles/rerank.yaml)",
		Description: "Prints one line per finding: the versions of vllm, vllm-neuron, NxDI and the Neuron compiler\n" +
			"in the environment of the vllm on PATH and the stack they make; whether that vllm belongs to the\n" +
			"active environment; the NeuronCores and which processes hold them (neuron-ls); free disk under the\n" +
			"compiled-artifacts root; the model directory; the known quirks of the stack.\n" +
			"Exit status: 0 a sweep can start, 1 it cannot, 2 bad input.",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("doctor: one profile at a time (got %d arguments)", c.NArg())
			}
			p, err := loadProfile(c.Args().First())
			if err != nil {
				return asUsage(err)
			}
			command := "vllm"
			if len(p.Server.Command) > 0 {
				command = p.Server.Command[0]
			}
			findings, ok := server.Doctor(c.Context, server.DoctorOptions{
				Command:       command,
				Stack:         p.Server.Stack,
				Model:         p.Model,
				HubID:         profiles.LooksLikeHubID(p.Model),
				ArtifactsRoot: p.Server.CompiledArtifacts,
				Cores:         p.Server.NeuronCores.IDs(),
				TP:            p.TensorParallelSize,
			})
			for _, f := range findings {
				fmt.Fprintln(c.App.Writer, f)
			}
			if !ok {
				return silentError{code: exitFailed}
			}
			return nil
		},
	}
}
