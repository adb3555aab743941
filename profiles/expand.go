package profiles

import (
	"fmt"
	"slices"
	"strings"

	"loadgen/server"
	"loadgen/server/neuron"
)

// ExpandOptions adjust a plan to where and how it runs.
type ExpandOptions struct {
	// Command replaces the server command (the profile's, default
	// "vllm serve"); the sweep passes the simulator's command here for
	// --simulate. The model and flags follow it.
	Command []string
	// ArtifactsRoot overrides server.compiled_artifacts when set.
	ArtifactsRoot string
	// Port overrides server.port when > 0.
	Port int
	// Host overrides server.host when set.
	Host string
	// Stack is the vllm-neuron stack the plan runs on as the caller
	// found it (detected on the host, or the simulated one); a stack named
	// in server.stack wins over a detected one.
	Stack StackChoice
}

// Plan is a profile expanded into the configurations a sweep runs. A
// sweep runs it only once Preflight has checked it (Checked).
type Plan struct {
	Profile *Profile
	// Configs are in profile order: explicit configs first, then the
	// matrix product.
	Configs []Config
	// Warnings concern the whole plan.
	Warnings []string
	// Stack is the stack whose rules the plan was checked against and how
	// it was chosen.
	Stack StackChoice
}

// Config is one configuration: its resolved settings and the server that
// runs them.
type Config struct {
	// Name is unique, filesystem-safe and deterministic.
	Name string
	// Settings are base + override with every default filled in.
	Settings Settings
	// Server has Argv, Env, Host, Port, ServedModel, ReadyTimeout,
	// StopGrace, URL and APIKey filled; Dir is left for the sweep.
	Server server.Config
	// ArtifactsDir is NEURON_COMPILED_ARTIFACTS ("" for a remote server).
	ArtifactsDir string
	// AdditionalConfig is the --additional-config JSON.
	AdditionalConfig string
	// Warnings are the pre-flight warnings: each names the config, the
	// key and what to do.
	Warnings []string
	// Overrides name the settings the stack's plugin replaces (one line
	// each): the server runs with the replacement, not with the flag.
	Overrides []string
}

// spec is a configuration before mapping: its name, where it is defined
// and the merged settings, with the key path each setting came from.
type spec struct {
	name     string
	path     string // "configs[2]", "matrix" or "base"
	settings Settings
	from     map[string]string
}

// Expand turns the profile into the list of configurations to run, with
// the exact server argv and environment of each, and runs the pre-flight
// checks. Errors (where vLLM would certainly fail) are joined; warnings go
// to Config.Warnings and Plan.Warnings. It reads the environment only for
// server.api_key_env. It starts nothing.
func (p *Profile) Expand(opts ExpandOptions) (*Plan, error) {
	return p.expand(opts, true)
}

func (p *Profile) expand(opts ExpandOptions, readEnv bool) (*Plan, error) {
	base := p.prob
	if base == nil {
		base = newProblems(p.Path)
	}
	// Fresh lists, shared positions: Expand may run more than once.
	pr := &problems{file: base.file, lines: base.lines}
	specs := p.specs(pr)
	if len(pr.errs) > 0 {
		return nil, pr.err()
	}
	apiKey := ""
	if readEnv && p.Server.APIKeyEnv != "" {
		apiKey = lookupEnv(p.Server.APIKeyEnv)
		if apiKey == "" {
			pr.errorf("server.api_key_env", "the environment variable %s is empty or not set: export the API key there", p.Server.APIKeyEnv)
		} else if err := server.CheckAPIKey(apiKey); err != nil {
			pr.errorf("server.api_key_env", "the environment variable %s: %v", p.Server.APIKeyEnv, err)
		}
	}
	plan := &Plan{Profile: p}
	plan.Stack = p.stackFor(opts)
	var errs []finding
	for _, sp := range specs {
		c, fs := p.config(sp, opts, apiKey)
		for _, f := range fs {
			if f.warn {
				c.Warnings = append(c.Warnings, pr.newError(f.path, "config %s: %s", sp.name, f.msg).Error())
			} else {
				f.configs = []string{sp.name}
				errs = append(errs, f)
			}
		}
		plan.Configs = append(plan.Configs, c)
	}
	for _, f := range groupFindings(errs) {
		what := "config "
		if len(f.configs) > 1 {
			what = "configs "
		}
		pr.errorf(f.path, "%s%s: %s", what, strings.Join(f.configs, ", "), f.msg)
	}
	if len(pr.errs) > 0 {
		return nil, pr.err()
	}
	plan.Warnings = p.planWarnings(pr, len(plan.Configs))
	for _, n := range plan.Stack.Notes {
		plan.Warnings = append(plan.Warnings, "stack: "+n)
	}
	return plan, nil
}

// specs lists the configurations: explicit configs, then the matrix; or,
// with neither, base alone (named "base").
func (p *Profile) specs(pr *problems) []spec {
	var out []spec
	for i, c := range p.Configs {
		path := indexPath("configs", i)
		from := baseOrigins(p.Base)
		out = append(out, spec{name: c.Name, path: path, settings: p.Base.merge(c.Settings, path, from), from: from})
	}
	out = append(out, p.matrixSpecs(pr)...)
	if len(out) == 0 && p.Matrix == nil && len(pr.errs) == 0 {
		out = append(out, spec{name: "base", path: "base", settings: p.Base.clone(), from: baseOrigins(p.Base)})
	}
	seen := map[string]string{}
	for _, sp := range out {
		at := sp.path
		if strings.HasPrefix(at, "configs[") {
			at = joinPath(at, "name")
		} else if pr.has("matrix.name") {
			at = "matrix.name"
		}
		if sp.path == "matrix" {
			if err := checkName(sp.name); err != nil {
				pr.errorf(at, "generated config name %v: set matrix.name to a template such as \"cte{context_encoding_buckets}\"", err)
				continue
			}
		}
		if prev, dup := seen[sp.name]; dup && prev == "matrix.name" && at == prev {
			pr.errorf(at, "the template gives two configs the name %q: put a {key} in it for every setting the matrix varies", sp.name)
			return out
		} else if dup {
			pr.errorf(at, "config name %q is already used by %s (line %d): every config needs its own name", sp.name, prev, pr.line(prev))
			continue
		}
		seen[sp.name] = at
	}
	return out
}

// config maps one spec to a Config and runs its pre-flight checks.
func (p *Profile) config(sp spec, opts ExpandOptions, apiKey string) (Config, []finding) {
	s := sp.settings.withDefaults()
	stack := p.stackFor(opts).Stack
	ck := &check{p: p, sp: sp, s: s, stack: stack}
	ck.preflight()
	rules := stack
	if rules == nil {
		rules = neuron.Default()
	}
	c := Config{Name: sp.name, Settings: s, Overrides: p.overrides(rules, s)}
	c.Server = server.Config{
		Name:         sp.name,
		Host:         p.Server.Host,
		Port:         p.Server.Port,
		ServedModel:  p.ServedModelName,
		ReadyTimeout: p.Server.ReadyTimeout.D(),
		StopGrace:    p.Server.StopGrace.D(),
		APIKey:       apiKey,
		Stack:        rules.Name,
	}
	if opts.Host != "" {
		c.Server.Host = opts.Host
	}
	if opts.Port > 0 {
		c.Server.Port = opts.Port
	}
	if p.Server.URL != "" {
		c.Server.URL = p.Server.URL
		return c, ck.findings
	}
	ac, err := additionalConfig(s)
	if err != nil {
		ck.errorf("neuron_config", "cannot be written as JSON: %v", err)
		return c, ck.findings
	}
	c.AdditionalConfig = ac
	root := p.Server.CompiledArtifacts
	if opts.ArtifactsRoot != "" {
		root = opts.ArtifactsRoot
	}
	c.ArtifactsDir = artifactsDir(root, sp.name, p.artifactsKey(s, ac))
	command := []string(p.Server.Command)
	if len(opts.Command) > 0 {
		command = opts.Command
	}
	c.Server.Argv = p.argv(command, c.Server.Host, c.Server.Port, s, ac)
	c.Server.Env = p.env(s, c.ArtifactsDir, apiKey, ck)
	return c, ck.findings
}

// Only returns a copy of the plan with just the named configs (for
// `loadgen sweep --only a,b`), in plan order. An unknown name is an error
// that lists the known ones.
func (pl *Plan) Only(names ...string) (*Plan, error) {
	known := make([]string, len(pl.Configs))
	for i, c := range pl.Configs {
		known[i] = c.Name
	}
	var bad []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			msg := fmt.Sprintf("%q", n)
			if s := suggest(n, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			bad = append(bad, msg)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("no config named %s in profile %s; its configs are %s", strings.Join(bad, ", "), pl.Profile.Name, strings.Join(known, ", "))
	}
	out := *pl // the profile, warnings and stack stay; only the configs narrow
	out.Configs = nil
	for _, c := range pl.Configs {
		if slices.Contains(names, c.Name) {
			out.Configs = append(out.Configs, c)
		}
	}
	return &out, nil
}

// finding is one pre-flight result about a config.
type finding struct {
	path    string
	msg     string
	warn    bool
	configs []string
}

// groupFindings merges identical findings of several configs (a problem in
// base shows up once, naming every config it affects).
func groupFindings(fs []finding) []finding {
	var out []finding
	at := map[[2]string]int{}
	for _, f := range fs {
		k := [2]string{f.path, f.msg}
		if i, ok := at[k]; ok {
			out[i].configs = append(out[i].configs, f.configs...)
			continue
		}
		at[k] = len(out)
		out = append(out, f)
	}
	return out
}
