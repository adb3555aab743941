package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
	"loadgen/workload"
)

func runCommand(servers *server.Owner, hard *loadgen.HardStop) *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run one load phase against a server (--url) or the simulator (--simulate)",
		Description: "Takes its defaults from a profile (--profile, default the shipped rerank.yaml) and one of its\n" +
			"configurations (--config, default the first); the flags override the profile's workload and\n" +
			"define the phase. With --url nothing is launched. Prints a compact table, or the phase result\n" +
			"JSON with --json; --out keeps the full result directory.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "base `URL` of a running server (nothing is launched)"},
			&cli.BoolFlag{Name: "simulate", Usage: "launch loadgen's simulated vllm-neuron (SIMULATED)"},
			&cli.StringFlag{Name: "profile", Usage: "profile `FILE` to take defaults from", DefaultText: "the shipped rerank.yaml", EnvVars: envVars("profile")},
			&cli.StringFlag{Name: "config", Usage: "configuration `NAME` of the profile to launch", DefaultText: "the first"},
			&cli.StringFlag{Name: "model", Usage: "served model `NAME` sent in requests", DefaultText: "the profile's", EnvVars: envVars("model")},
			&cli.StringFlag{Name: "dataset", Usage: "dataset `FILE` (.csv or .jsonl, optionally .gz)", DefaultText: "the profile's"},
			&cli.StringFlag{Name: "phase", Usage: "run the profile's phase `NAME` instead of one the phase flags describe"},
			&cli.StringFlag{Name: "client", Usage: "send only client `I/N`'s share of the phase (1/N of its rate, its own seed and queries; needs --out): `loadgen merge` joins the N results"},
			&cli.StringFlag{Name: "arrival", Usage: "poisson, gamma, constant, sync or inf", DefaultText: "sync; poisson with --rate"},
			&cli.StringFlag{Name: "rate", Usage: "target arrival `RATE` in queries/s, or inf (alone, it makes the arrival poisson)"},
			&cli.Float64Flag{Name: "burstiness", Value: 1, Usage: "gamma shape (gamma arrivals)"},
			&cli.IntFlag{Name: "max-concurrency", Usage: "cap on in-flight requests (required by inf)", DefaultText: "none"},
			&cli.IntFlag{Name: "queries", Usage: "measured queries", DefaultText: "one pass over the dataset for sync"},
			&cli.DurationFlag{Name: "duration", Usage: "schedule arrivals for this long instead of a query count", DefaultText: "none"},
			&cli.IntFlag{Name: "warmup", Usage: "warmup queries, sent first and left out of the results"},
			&cli.Int64Flag{Name: "seed", Usage: "seed of the arrival schedule"},
			&cli.IntFlag{Name: "batch-size", Usage: "prompts per completion request", DefaultText: "the profile's"},
			&cli.IntFlag{Name: "search-num", Usage: "documents scored per query", DefaultText: "the profile's"},
			&cli.IntFlag{Name: "top-n", Usage: "documents kept per query", DefaultText: "the profile's"},
			&cli.IntFlag{Name: "max-length", Usage: "token budget of one prompt", DefaultText: "the profile's"},
			&cli.IntFlag{Name: "max-tokens", Usage: "max_tokens of each request", DefaultText: "the profile's"},
			&cli.DurationFlag{Name: "request-timeout", Usage: "per-request timeout", DefaultText: "the profile's first phase's"},
			&cli.DurationFlag{Name: "ready-timeout", Usage: "how long to wait for the server to be ready", DefaultText: "the profile's; 2m with --url"},
			&cli.StringFlag{Name: "out", Usage: "keep the result directory in `DIR`", DefaultText: "a temporary directory, removed at exit"},
			&cli.BoolFlag{Name: "json", Usage: "print the phase result JSON to stdout"},
			&cli.BoolFlag{Name: "requests-log", Usage: "write every request to requests.jsonl (needs --out)"},
			apiKeyFlag(),
		}, simFlags()...),
		Action: func(c *cli.Context) error { return runAction(c, servers, hard) },
	}
}

func runAction(c *cli.Context, servers *server.Owner, hard *loadgen.HardStop) error {
	if c.NArg() > 0 {
		return usagef("run: unexpected argument %q (all settings are flags)", c.Args().First())
	}
	if c.IsSet("url") == c.Bool("simulate") {
		return usagef("run: give exactly one of --url URL (a running server) or --simulate")
	}
	p, err := loadProfile(c.String("profile"))
	if err != nil {
		return asUsage(err)
	}
	if err := applyRunFlags(c, p); err != nil {
		return asUsage(err)
	}
	out, temp := c.String("out"), false
	var client *schema.Part
	if c.IsSet("client") {
		part, err := schema.ParsePart(c.String("client"))
		if err != nil {
			return usagef("--client %w", err)
		}
		if out == "" {
			return usagef("run: --client needs --out DIR: the share is one of %d results that `loadgen merge` joins", part.Count)
		}
		client = &part
	}
	if out == "" {
		if c.Bool("requests-log") {
			return usagef("run: --requests-log needs --out DIR")
		}
		if out, err = os.MkdirTemp("", "loadgen-run-"); err != nil {
			return err
		}
		temp = true
		defer os.RemoveAll(out)
	}
	key, err := apiKey(c, p)
	if err != nil {
		return err
	}
	config := c.String("config")
	o := loadgen.Options{
		Profile:     p,
		Simulate:    c.Bool("simulate"),
		Sim:         simOptions(c),
		Out:         out,
		RequestsLog: c.Bool("requests-log"),
		Progress:    c.App.ErrWriter,
		Version:     version,
		Servers:     servers,
		HardStop:    hard,
		APIKey:      key,
		Client:      client,
	}
	if config != "" {
		o.Only = []string{config}
	} else {
		plan, err := loadgen.Plan(o)
		if err != nil {
			return asUsage(err)
		}
		o.Only = []string{plan.Configs[0].Name}
	}
	res, err := runSweep(c, o)
	if err != nil {
		return err
	}
	return printRun(c, res, o.Only[0], p.Load[0].Name, temp)
}

// remoteReadyTimeout bounds the wait for a server given by --url.
const remoteReadyTimeout = 2 * time.Minute

// applyRunFlags overrides the profile's workload and load with the flags.
func applyRunFlags(c *cli.Context, p *profiles.Profile) error {
	if c.IsSet("url") {
		p.Server.URL = c.String("url")
	}
	if c.IsSet("model") {
		p.ServedModelName = c.String("model")
	}
	w := &p.Workload
	if c.IsSet("dataset") {
		abs, err := filepath.Abs(c.String("dataset"))
		if err != nil {
			return err
		}
		format, _, err := workload.FormatOf(abs)
		if err != nil {
			return fmt.Errorf("--dataset: %w", err)
		}
		w.Dataset, w.Format = abs, format
	}
	for flag, dst := range map[string]*int{"batch-size": &w.BatchSize, "search-num": &w.SearchNum,
		"top-n": &w.TopN, "max-length": &w.MaxLength, "max-tokens": &w.MaxTokens} {
		if c.IsSet(flag) {
			*dst = c.Int(flag)
		}
	}
	ph, err := runPhase(c, p)
	if err != nil {
		return err
	}
	if c.IsSet("ready-timeout") {
		p.Server.ReadyTimeout = profiles.Duration(c.Duration("ready-timeout"))
	} else if p.Server.URL != "" {
		// Somebody else's server is up or it is not: no compile to wait for.
		p.Server.ReadyTimeout = profiles.Duration(remoteReadyTimeout)
	}
	p.Load = []profiles.Phase{ph}
	return nil
}

// runPhaseKeys are the phase keys run's flags write (see phaseFlag).
var runPhaseKeys = []string{"arrival", "rate", "burstiness", "max_concurrency", "queries", "duration", "warmup", "seed", "request_timeout"}

// phaseFlag is the flag of a phase key: the key with hyphens
// (max_concurrency is --max-concurrency).
func phaseFlag(key string) string { return strings.ReplaceAll(key, "_", "-") }

// flagNames names phase keys as run's flags in the resolver's messages.
type flagNames struct{}

func (flagNames) Key(key string) string            { return "--" + phaseFlag(key) }
func (flagNames) Setting(key, value string) string { return "--" + phaseFlag(key) + " " + value }

// runPhase resolves the phase run's flags describe, named "run", by the
// profile's rules (profiles.ResolvePhase): a phase refused in a profile is
// refused here, with the flags named. Beyond what a profile writes, run
// has two defaults: the arrival is poisson with --rate and sync without,
// and the request timeout is the profile's first phase's.
func runPhase(c *cli.Context, p *profiles.Profile) (profiles.Phase, error) {
	if c.IsSet("phase") {
		return profilePhase(c, p)
	}
	names := flagNames{}
	written := map[string]bool{"name": true}
	for _, k := range runPhaseKeys {
		written[k] = c.IsSet(phaseFlag(k))
	}
	ph := profiles.Phase{
		Name:           "run",
		Arrival:        c.String("arrival"),
		Burstiness:     c.Float64("burstiness"),
		MaxConcurrency: c.Int("max-concurrency"),
		Queries:        c.Int("queries"),
		Duration:       profiles.Duration(c.Duration("duration")),
		Warmup:         c.Int("warmup"),
		Seed:           c.Int64("seed"),
		RequestTimeout: profiles.Duration(c.Duration("request-timeout")),
	}
	if written["rate"] {
		r, err := profiles.ParseRateValue(c.String("rate"))
		if err != nil {
			return ph, fmt.Errorf("--rate: %w", err)
		}
		ph.Rate = r
	}
	if !written["arrival"] {
		ph.Arrival, written["arrival"] = profiles.ArrivalSync, true
		if written["rate"] {
			ph.Arrival = profiles.ArrivalPoisson
		}
	}
	if !written["request_timeout"] && len(p.Load) > 0 {
		ph.RequestTimeout, written["request_timeout"] = p.Load[0].RequestTimeout, true
	}
	env := profiles.PhaseEnv{SLO: p.SLO, Synthetic: p.Workload.IsSynthetic()}
	resolved, probs := profiles.ResolvePhase(profiles.PhaseSpec{Phase: ph, Written: written}, env, names)
	var errs []error
	for _, pb := range probs {
		if pb.Key == "" {
			errs = append(errs, errors.New(pb.Msg))
		} else {
			errs = append(errs, fmt.Errorf("%s: %s", names.Key(pb.Key), pb.Msg))
		}
	}
	return resolved, errors.Join(errs...)
}

// profilePhase is the profile's phase --phase names, which the phase
// flags must not also describe.
func profilePhase(c *cli.Context, p *profiles.Profile) (profiles.Phase, error) {
	for _, k := range runPhaseKeys {
		if c.IsSet(phaseFlag(k)) {
			return profiles.Phase{}, fmt.Errorf("--phase %s runs the profile's phase as written: remove --%s", c.String("phase"), phaseFlag(k))
		}
	}
	name := c.String("phase")
	ph, ok := p.Phase(name)
	if !ok {
		var names []string
		for _, ph := range p.Load {
			names = append(names, ph.Name)
		}
		return ph, fmt.Errorf("--phase: no phase named %q in profile %s%s; its phases are %s", name, p.Name, didYouMean(name, names), strings.Join(names, ", "))
	}
	if err := ph.Alone(); err != nil {
		return ph, fmt.Errorf("--phase: %w", err)
	}
	return ph, nil
}

// printRun prints the phase result as a compact table or as JSON.
func printRun(c *cli.Context, out *loadgen.Outcome, config, phase string, temp bool) error {
	path := filepath.Join(out.Dir, schema.PhaseFile(config, phase))
	b, err := os.ReadFile(path)
	if err != nil {
		sw, lerr := report.Load(out.Dir)
		if lerr == nil {
			if cr := sw.Config(config); cr != nil && cr.FailureReason() != "" {
				return fmt.Errorf("run: %s: %s", config, classReasonOf(cr))
			}
		}
		return fmt.Errorf("run: no result: %w", err)
	}
	if c.Bool("json") {
		if _, err := c.App.Writer.Write(b); err != nil {
			return err
		}
		return runStatus(out)
	}
	var res schema.PhaseResult
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("run: reading %s: %w", path, err)
	}
	if err := writePhaseTable(c.App.Writer, &res); err != nil {
		return err
	}
	if !temp {
		fmt.Fprintf(c.App.Writer, "\nresults: %s\n", out.Dir)
	}
	return runStatus(out)
}

// runStatus is the exit status of a run whose result was printed.
func runStatus(out *loadgen.Outcome) error {
	if out.Interrupted {
		return silentError{exitInterrupted}
	}
	if out.Failed > 0 {
		return silentError{exitFailed}
	}
	return nil
}

func classReasonOf(cr *report.ConfigResult) string {
	if cl := cr.FailureClass(); cl != "" {
		return cl + ": " + cr.FailureReason()
	}
	return cr.FailureReason()
}
