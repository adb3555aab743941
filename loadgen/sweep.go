package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"loadgen/loadgen/report"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
)

// Options configure a sweep.
type Options struct {
	// Profile is the loaded profile.
	Profile *profiles.Profile
	// Simulate runs every configuration against loadgen's simulator
	// instead of the profile's server command; every output then says
	// SIMULATED.
	Simulate bool
	// Sim tunes the simulator when Simulate is set.
	Sim SimOptions
	// Out is the results directory; "" means
	// results/<profile>-<YYYYmmdd-HHMMSS>. With Resume it must exist.
	Out string
	// Resume continues the sweep recorded in Out: only configurations and
	// phases that are missing or did not finish ok are run.
	Resume bool
	// Only restricts the sweep to the named configurations.
	Only []string
	// Shard runs only this shard of the configurations (after Only), as
	// schema.ShardOf deals them; the manifest records it. nil: all.
	Shard *schema.Part
	// Client runs only this client's share of every phase (`run --client
	// I/N`; profiles.SplitPhase), for `loadgen merge` to join with the
	// other clients' results. nil: every phase whole, or split across its
	// clients in this process.
	Client *schema.Part
	// Continue, with Out, continues the sweep recorded in Out when there
	// is one (as Resume does) and starts it there otherwise: what a
	// retried Kubernetes pod does.
	Continue bool
	// Port overrides the profile's server port (0: the profile's, or a
	// free port when simulating).
	Port int
	// RequestsLog writes every request to <config>/<phase>.requests.jsonl.
	RequestsLog bool
	// Drain is how long in-flight requests may finish after an interrupt
	// (default DefaultDrain).
	Drain time.Duration
	// Progress receives progress lines (nil: none).
	Progress io.Writer
	// Version is loadgen's version, recorded in the manifest.
	Version string
	// Servers owns the servers the sweep launches, so that the caller can
	// kill them all at once (main: on the second Ctrl-C, at exit, on a
	// panic). The sweep stops every server it started before it returns.
	// nil: the sweep uses an owner of its own.
	Servers *server.Owner
	// APIKey is sent as a bearer token to a server loadgen does not start
	// (server.url), in place of the key named by server.api_key_env. It is
	// never written anywhere. A profile whose servers loadgen launches
	// takes no APIKey: its key comes from server.api_key_env.
	APIKey string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CheckSearches follows every search phase with its brute-force check
	// (fixed-rate trials on a grid; `loadgen sim check-search`), written
	// as <config>/<phase>.scan.json. It is not part of a sweep's report.
	CheckSearches bool
	// HardStop, when set, lets the caller mark the sweep interrupted when
	// it must exit at once (main: the second Ctrl-C, after killing the
	// servers).
	HardStop *HardStop

	// writeFile writes the sweep's own files (manifest, startup records,
	// command lines, phase results); schema.WriteFileAtomic unless a test
	// makes the disk fail.
	writeFile func(path string, data []byte) error
}

// DefaultDrain is how long in-flight requests may finish after the first
// Ctrl-C before they are aborted.
const DefaultDrain = 10 * time.Second

// Outcome summarises a finished (or interrupted) sweep.
type Outcome struct {
	// Dir is the results directory.
	Dir string
	// Passed, Failed, Interrupted and Skipped count configurations
	// (Skipped: never started).
	Passed, Failed, InterruptedConfigs, Skipped int
	// Interrupted is set when the sweep was stopped by the context.
	Interrupted bool
	// Problems lists what the report loader could not read.
	Problems []string
	// WriteErrors lists the files the sweep failed to write (each was
	// printed as it failed), with how often: the results are incomplete.
	WriteErrors []string
	// Report is the path of summary.md when the report was written, ""
	// when it could not be (the error Run returns says why).
	Report string
	// Sweep is the sweep as it ended: the records the sweep holds (which
	// a failed write may have kept from manifest.json) and the files it
	// wrote. The final table is printed from it.
	Sweep *report.Sweep
}

// ErrBadInput marks errors caused by the user's input (profile, flags,
// resume directory): the CLI exits 2 and nothing was started.
var ErrBadInput = errors.New("bad input")

// Checked is a sweep whose plan passed pre-flight (profiles.Plan.Preflight),
// with the options it was checked under and the dataset pre-flight read.
// Only Preflight makes one, and Run runs nothing else.
type Checked struct {
	o       Options
	plan    *profiles.Checked
	shard   *schema.Shard    // what Options.Shard selected, for the manifest
	resumed *schema.Manifest // the sweep to continue, with Options.Resume
}

// Plan returns the checked plan.
func (c *Checked) Plan() *profiles.Plan { return c.plan.Plan() }

// Preflight expands the profile as the sweep will run it (Plan) and checks
// it completely: with --resume, the sweep to continue; then, in one pass
// over the dataset, the profile's rules, every server command on PATH,
// every dataset row and every phase against the dataset. Bad input is found
// here, before any server starts — a missing vllm, an invalid phase, a bad
// dataset row must not wait for a 30-minute compile; its errors wrap
// ErrBadInput.
func Preflight(o Options) (*Checked, error) {
	plan, shard, err := shardedPlan(o)
	if err != nil {
		return nil, err
	}
	if o.Continue && !o.Resume {
		if o.Out == "" {
			return nil, fmt.Errorf("%w: continuing a sweep needs its results directory", ErrBadInput)
		}
		_, err := os.Stat(filepath.Join(o.Out, schema.ManifestFile))
		o.Resume = err == nil
	}
	c := &Checked{o: o, shard: shard}
	if o.Resume {
		if c.resumed, err = resumeManifest(o, plan, shard); err != nil {
			return nil, err
		}
	}
	if c.plan, err = plan.Preflight(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if err := checkClient(o, plan.Profile.Load); err != nil {
		return nil, err
	}
	if c.resumed != nil {
		if err := checkInputs(o.Out, c.resumed, inputsOf(c.plan.Dataset())); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// DryRun writes the plan `loadgen sweep --dry-run` shows (profiles.Plan.DryRun)
// and runs the sweep's pre-flight on it: it ends with what pre-flight
// checked, or returns pre-flight's errors (wrapping ErrBadInput) exactly as
// Preflight would. It starts nothing.
func DryRun(o Options, w io.Writer) error {
	plan, err := Plan(o)
	if err != nil {
		return err
	}
	if err := plan.DryRun(w); err != nil {
		return err
	}
	checked, err := plan.Preflight()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if data := checked.Dataset(); data != nil {
		for _, wn := range data.Warnings() {
			if _, err := fmt.Fprintf(w, "# warning: dataset: %s\n", wn); err != nil {
				return err
			}
		}
	}
	_, err = fmt.Fprintf(w, "\n# pre-flight passed: %s\n", checked.Summary())
	return err
}

// Run runs a checked sweep. It returns an error wrapping ErrBadInput when
// nothing could start because of the input (a new sweep into a results
// directory that holds results); otherwise it returns an Outcome, with
// failed configurations recorded in it and in the results directory.
func Run(ctx context.Context, c *Checked) (*Outcome, error) {
	if c == nil || c.plan == nil {
		return nil, errors.New("loadgen.Run: the sweep did not pass pre-flight (loadgen.Preflight)")
	}
	o, plan := c.o, c.plan.Plan()
	if o.Servers == nil {
		o.Servers = new(server.Owner)
		defer o.Servers.KillAll()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}
	if o.writeFile == nil {
		o.writeFile = schema.WriteFileAtomic
	}
	dir, lock, leftovers, err := openResults(o)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	pr := NewPrinter(discardIfNil(o.Progress))
	writes := newWriteLog(dir, pr)
	m, err := newManifestState(dir, o, plan, c.plan.Dataset(), c.shard, c.resumed, writes)
	if err != nil {
		return nil, err
	}
	defer o.HardStop.add(func() string {
		defer lock.Unlock() // the process exits next: no lock file left behind
		return m.hardStop(o.Now(), dir)
	})()
	s := &sweeper{o: o, plan: plan, data: c.plan.Dataset(), dir: dir, m: m, pr: pr, writes: writes}
	s.pr.Eventf("loadgen: sweep %s%s: %d configuration(s) × %d phase(s) → %s%s",
		plan.Profile.Name, shardSuffix(c.shard), len(plan.Configs), len(plan.Profile.Load), dir, simulatedSuffix(o.Simulate))
	if leftovers > 0 {
		s.pr.Eventf("removed %d temporary file(s) an earlier run left in %s", leftovers, dir)
	}
	for _, w := range plan.Warnings {
		s.pr.Eventf("warning: %s", w)
	}
	if w := stackWarning(plan.Stack); w != "" {
		s.pr.Eventf("warning: %s", w)
	}
	slots, err := s.slots()
	if err != nil {
		return nil, err
	}
	s.run(ctx, slots)
	return s.finish(ctx)
}

// Plan expands the profile as the sweep would (with --simulate, every
// configuration runs the simulator; with a shard, only its
// configurations), without pre-flight: to look at the configurations.
// Preflight checks it.
func Plan(o Options) (*profiles.Plan, error) {
	plan, _, err := shardedPlan(o)
	return plan, err
}

// shardedPlan is Plan, and the shard it selected (nil without one).
func shardedPlan(o Options) (*profiles.Plan, *schema.Shard, error) {
	plan, err := fullPlan(o)
	if err != nil || o.Shard == nil {
		return plan, nil, err
	}
	sh := &schema.Shard{Part: *o.Shard, Rule: schema.ShardRule}
	for _, c := range plan.Configs {
		sh.Of = append(sh.Of, c.Name)
	}
	sh.Configs = schema.ShardOf(sh.Of, *o.Shard)
	if plan, err = plan.Only(sh.Configs...); err != nil {
		return nil, nil, err
	}
	return plan, sh, nil
}

func shardSuffix(sh *schema.Shard) string {
	if sh == nil {
		return ""
	}
	return fmt.Sprintf(" (shard %s: %d of %d configurations)", sh.Part, len(sh.Configs), len(sh.Of))
}

// fullPlan is the plan before sharding.
func fullPlan(o Options) (*profiles.Plan, error) {
	if o.Profile == nil {
		return nil, fmt.Errorf("%w: no profile", ErrBadInput)
	}
	eo := profiles.ExpandOptions{Port: o.Port}
	var err error
	if o.Simulate {
		if eo, err = simExpandOptions(o.Sim, o.Port); err != nil {
			return nil, err
		}
	}
	if eo.Stack, err = chooseStack(o); err != nil {
		return nil, err
	}
	plan, err := o.Profile.Expand(eo)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if len(o.Only) > 0 {
		if plan, err = plan.Only(o.Only...); err != nil {
			return nil, fmt.Errorf("%w: --only: %w", ErrBadInput, err)
		}
	}
	if o.Simulate {
		for i := range plan.Configs {
			sim := o.Sim
			sim.Stack = plan.Stack.Stack.Name
			simulateConfig(&plan.Configs[i], sim)
		}
	}
	if o.APIKey != "" {
		for i := range plan.Configs {
			if !plan.Configs[i].Server.Remote() {
				return nil, fmt.Errorf("%w: an API key is for a server loadgen does not start (--url, server.url); a launched server takes its key from server.api_key_env", ErrBadInput)
			}
			plan.Configs[i].Server.APIKey = o.APIKey
		}
	}
	return plan, nil
}

func simulatedSuffix(sim bool) string {
	if sim {
		return " (SIMULATED)"
	}
	return ""
}

func discardIfNil(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// finish records how the sweep ended, renders the report and counts the
// outcome. The report is rendered also after an interrupt, from whatever
// was measured.
func (s *sweeper) finish(ctx context.Context) (*Outcome, error) {
	out := &Outcome{Dir: s.dir, Interrupted: ctx.Err() != nil}
	s.m.update(func(m *schema.Manifest) {
		t := m.Tally()
		out.Passed, out.Failed, out.InterruptedConfigs, out.Skipped = t.Passed, t.Failed, t.Interrupted, t.Skipped
		m.EndedAt = s.o.Now()
		m.Status = t.SweepStatus(out.Interrupted)
		if m.Status == schema.SweepCompleted && len(s.writes.failures()) > 0 {
			m.Status = schema.SweepFailed
		}
	})
	s.pr.Done()
	out.WriteErrors = s.writes.failures()
	// The report is built from the records as the sweep holds them: when
	// a write of manifest.json failed, the file is behind them.
	snap := s.m.snapshot()
	sw, err := report.LoadManifest(s.dir, &snap)
	if err != nil {
		return out, fmt.Errorf("reading the results back: %w", err)
	}
	out.Sweep, out.Problems = sw, sw.Problems
	if err := report.Render(s.dir, sw); err != nil {
		return out, fmt.Errorf("writing the report: %w", err)
	}
	out.Report = filepath.Join(s.dir, report.SummaryMarkdownFile)
	return out, nil
}
