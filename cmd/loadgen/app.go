package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// newApp builds the CLI. All output goes to stdout/stderr so tests can
// capture it; Run never exits the process (ExitErrHandler is a no-op and
// main maps errors to exit codes).
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "loadgen",
		Usage:   "online load testing of vllm-neuron server configurations (Inferentia2)",
		Version: version,
		Writer:  stdout,
		// ErrWriter gets usage errors; the one-line error itself is printed
		// by main.
		ErrWriter:            stderr,
		ExitErrHandler:       func(*cli.Context, error) {},
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		Suggest:              true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return asUsage(err)
		},
		Commands: []*cli.Command{
			sweepCommand(),
			runCommand(),
			reportCommand(),
			compareCommand(),
			simCommand(),
			selftestCommand(),
		},
	}
	for _, c := range app.Commands {
		if c.OnUsageError == nil {
			c.OnUsageError = app.OnUsageError
		}
		for _, sub := range c.Subcommands {
			if sub.OnUsageError == nil {
				sub.OnUsageError = app.OnUsageError
			}
		}
	}
	return app
}

// interspersed returns args with the flags of the named command moved
// before its positional arguments, so `loadgen sweep PROFILE --simulate`
// works like `loadgen sweep --simulate PROFILE` (urfave/cli v2 stops at the
// first positional argument). Everything after "--" is left alone, and
// commands that parse their own flags are not touched.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd := app.Command(args[1])
	if cmd == nil || cmd.SkipFlagParsing || len(cmd.Subcommands) > 0 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		n, _, inline := strings.Cut(name, "=")
		if takesValue[n] && !inline && i+1 == len(rest) {
			// No value follows: moved before the positionals, the flag
			// would take one of them as its value. Left in place, the
			// command rejects it as an extra argument.
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		if takesValue[n] && !inline {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	out := append([]string{}, args[:2]...)
	out = append(out, flags...)
	return append(out, pos...)
}
