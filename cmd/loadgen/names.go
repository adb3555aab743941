package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"loadgen/profiles"
)

// didYouMean is "; did you mean X?" for the name in known closest to name,
// or "" when none is close.
func didYouMean(name string, known []string) string {
	if s := profiles.Suggest(name, known); s != "" {
		return fmt.Sprintf("; did you mean %s?", s)
	}
	return ""
}

// splitList parses the value of a list-valued flag (comma-separated
// names). Items are trimmed; an empty item is an error, and so is a name
// not in known (when known is not nil), with a did-you-mean and the list
// of known names. Errors are usage errors.
func splitList(flag, value string, known []string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(value, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, usagef("--%s %q: an empty name; give comma-separated names", flag, value)
		}
		if known != nil && !slices.Contains(known, s) {
			return nil, usagef("--%s: unknown name %q%s; the names are %s", flag, s, didYouMean(s, known), strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// unknownCommand is the usage error for an argument that names none of
// the commands below parent ("" for loadgen itself, "sim").
func unknownCommand(parent, name string, cmds []*cli.Command) error {
	var known []string
	for _, c := range cmds {
		if !c.Hidden {
			known = append(known, c.Name)
		}
	}
	if parent != "" {
		parent += ": "
	}
	return usagef("%sunknown command %q%s; the commands are %s", parent, name, didYouMean(name, known), strings.Join(known, ", "))
}

// undefinedFlag matches the error of Go's flag package for an unknown flag.
var undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)

// usageErrorOf turns a flag-parsing error of urfave/cli into a usage
// error; an unknown flag gets a did-you-mean from the command's flags.
func usageErrorOf(c *cli.Context, err error) error {
	m := undefinedFlag.FindStringSubmatch(err.Error())
	if m == nil {
		return asUsage(err)
	}
	flags := c.App.Flags
	if c.Command != nil && len(c.Command.Flags) > 0 {
		flags = c.Command.Flags
	}
	var known []string
	for _, f := range flags {
		known = append(known, f.Names()...)
	}
	if s := profiles.Suggest(m[1], known); s != "" {
		return usagef("%v; did you mean --%s?", err, s)
	}
	return asUsage(err)
}

// envVars is the environment variable a flag also reads: LOADGEN_ and its
// name in upper case with "_" for "-" (--sim-speed: LOADGEN_SIM_SPEED). A
// flag on the command line wins over the variable; help lists it.
func envVars(flag string) []string {
	return []string{"LOADGEN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}
