package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/server"
)

// newApp builds the CLI. All output goes to stdout/stderr so tests can
// capture it; Run never exits the process (ExitErrHandler is a no-op and
// main maps errors to exit codes). servers owns every server a command
// launches, so that main can kill them all at once; hard lets main mark a
// sweep in progress interrupted when it must exit at once (nil: nothing to
// mark).
func newApp(stdout, stderr io.Writer, servers *server.Owner, hard *loadgen.HardStop) *cli.App {
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
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErrorOf(c, err)
		},
		Commands: []*cli.Command{
			sweepCommand(servers, hard),
			runCommand(servers, hard),
			reportCommand(),
			compareCommand(),
			simCommand(servers),
			selftestCommand(servers),
			doctorCommand(),
			mergeCommand(),
			k8sCommand(),
		},
	}
	app.Action = helpOrUnknown("", func(*cli.Context) []*cli.Command { return app.Commands }, cli.ShowAppHelp)
	for _, c := range app.Commands {
		tidy(c, app.OnUsageError)
		for _, sub := range c.Subcommands {
			tidy(sub, app.OnUsageError)
		}
	}
	return app
}

// tidy applies the app-wide conventions to a command: usage errors exit 2,
// no "help" subcommand (it would swallow a positional argument named help;
// `loadgen help CMD` is handled by the app), and boolean flags print no
// "(default: false)".
func tidy(c *cli.Command, onUsage cli.OnUsageErrorFunc) {
	if c.OnUsageError == nil {
		c.OnUsageError = onUsage
	}
	c.HideHelpCommand = true
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = helpOrUnknown(c.Name, func(*cli.Context) []*cli.Command { return c.Subcommands }, cli.ShowSubcommandHelp)
	}
	for _, f := range c.Flags {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
}

// helpOrUnknown is the action of a command that only holds subcommands
// (the app itself, whose parent is "", and sim): without an argument it shows its help (show),
// "help [NAME]" shows NAME's help, and any other argument is an unknown
// command, a usage error with a did-you-mean.
func helpOrUnknown(parent string, commands func(*cli.Context) []*cli.Command, show cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		args := c.Args()
		if !args.Present() {
			return show(c)
		}
		name := args.First()
		if name == "help" {
			topic := args.Get(1)
			if topic == "" {
				return show(c)
			}
			name = topic
			for _, cmd := range commands(c) {
				if cmd.HasName(name) {
					return cli.ShowCommandHelp(c, name)
				}
			}
		}
		return unknownCommand(parent, name, commands(c))
	}
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
