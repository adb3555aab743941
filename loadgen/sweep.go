package loadgen

import (
	"loadgen/loadgen/schema"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"loadgen/loadgen/report"
	"loadgen/profiles"
	"loadgen/server"
	"loadgen/workload"
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
}

// ErrBadInput marks errors caused by the user's input (profile, flags,
// resume directory): the CLI exits 2 and nothing was started.
var ErrBadInput = errors.New("bad input")

// Run runs the sweep. It returns an error wrapping ErrBadInput when nothing
// could start because of the input; otherwise it returns an Outcome, with
// failed configurations recorded in it and in the results directory.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}
	if o.Servers == nil {
		o.Servers = new(server.Owner)
		defer o.Servers.KillAll()
	}
	plan, err := Plan(o)
	if err != nil {
		return nil, err
	}
	var resumed *schema.Manifest
	if o.Resume {
		if resumed, err = resumeManifest(o, plan); err != nil {
			return nil, err
		}
	}
	// Bad input is found before any server starts — a missing vllm, an
	// invalid phase, a bad dataset row must not wait for a 30-minute compile.
	if err := errors.Join(checkCommand(plan), checkPhases(plan.Profile), checkDataset(plan.Profile)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	dir, err := resultsDir(o)
	if err != nil {
		return nil, err
	}
	m, err := newManifestState(dir, o, plan, resumed)
	if err != nil {
		return nil, err
	}
	s := &sweeper{o: o, plan: plan, dir: dir, m: m, pr: NewPrinter(discardIfNil(o.Progress))}
	s.pr.Eventf("loadgen: sweep %s: %d configuration(s) × %d phase(s) → %s%s",
		plan.Profile.Name, len(plan.Configs), len(plan.Profile.Load), dir, simulatedSuffix(o.Simulate))
	for _, w := range plan.Warnings {
		s.pr.Eventf("warning: %s", w)
	}
	s.run(ctx)
	return s.finish(ctx)
}

// Plan expands the profile as Run would (for --dry-run): with --simulate,
// every configuration runs the simulator.
func Plan(o Options) (*profiles.Plan, error) {
	if o.Profile == nil {
		return nil, fmt.Errorf("%w: no profile", ErrBadInput)
	}
	eo := profiles.ExpandOptions{Port: o.Port}
	if o.Simulate {
		var err error
		if eo, err = simExpandOptions(o.Sim, o.Port); err != nil {
			return nil, err
		}
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
			simulateConfig(&plan.Configs[i], o.Sim)
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

// resultsDir picks and creates the results directory.
func resultsDir(o Options) (string, error) {
	if o.Resume {
		return o.Out, nil // resumeManifest has checked it
	}
	dir := o.Out
	if dir == "" {
		dir = filepath.Join("results", o.Profile.Name+"-"+o.Now().Format("20060102-150405"))
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%w: results directory %s already holds results: choose another --out, or continue it with --resume %s", ErrBadInput, dir, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create results directory: %w", err)
	}
	return dir, nil
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
		for _, c := range m.Configs {
			switch c.Status {
			case schema.StatusOK:
				if c.FailureClass != "" {
					out.Failed++ // ran, but a finding voids its results
				} else {
					out.Passed++
				}
			case schema.StatusFailed:
				out.Failed++
			case schema.StatusInterrupted:
				out.InterruptedConfigs++
			default:
				out.Skipped++
			}
		}
		m.EndedAt = s.o.Now()
		switch {
		case out.Interrupted:
			m.Status = schema.SweepInterrupted
		case out.Failed > 0:
			m.Status = schema.SweepFailed
		default:
			m.Status = schema.SweepCompleted
		}
	})
	s.pr.Done()
	sw, err := report.Load(s.dir)
	if err != nil {
		return out, fmt.Errorf("reading the results back: %w", err)
	}
	out.Problems = sw.Problems
	if err := report.Render(s.dir, sw); err != nil {
		return out, fmt.Errorf("writing the report: %w", err)
	}
	return out, nil
}

// checkDataset reads the workload's dataset once, whole, and returns the
// first problem (file:line), so that it is bad input found before anything
// starts. A one-pass sync phase also needs the dataset to fit the cache.
func checkDataset(p *profiles.Profile) error {
	if p.Workload.IsSynthetic() {
		return nil
	}
	ds, err := openDataset(p.Workload)
	if err != nil {
		return err
	}
	defer ds.Close()
	n := 0
	for {
		_, err := ds.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("dataset %s holds no query", p.Workload.Dataset)
	}
	for _, ph := range p.Load {
		if ph.OnePass() && n > workload.DefaultCacheQueries {
			return fmt.Errorf("phase %s makes one pass over a dataset of %d queries (more than %d): set its queries or duration",
				ph.Name, n, workload.DefaultCacheQueries)
		}
	}
	return nil
}

// checkCommand finds every configuration's server command before anything
// starts: without `vllm` on PATH no configuration can run, and the one line
// that says so also points at --simulate.
func checkCommand(plan *profiles.Plan) error {
	for _, c := range plan.Configs {
		if err := server.CheckCommand(c.Server); err != nil {
			return errors.New(reasonOf(err))
		}
	}
	return nil
}
