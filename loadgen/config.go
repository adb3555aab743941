package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"loadgen/loadgen/engine"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
	"loadgen/server"
)

// sweeper runs the configurations of a plan one after another, or up to
// one per core group at once.
type sweeper struct {
	o       Options
	plan    *profiles.Plan
	data    *profiles.Dataset // what pre-flight read; nil for synthetic load
	dir     string
	m       *manifestState
	pr      *Printer
	writes  *writeLog
	eta     eta
	besides *besides
	measure chan struct{} // the turn to measure under server.measure: serial (nil: no turns)
}

// run runs every configuration that still needs it; a failed configuration
// is recorded and the sweep goes on. It returns when all are done or ctx is
// cancelled.
func (s *sweeper) run(ctx context.Context, slots []slot) {
	s.eta.start(s.o.Now(), len(s.plan.Configs))
	s.besides = newBesides()
	if len(slots) > 1 {
		s.runGroups(ctx, slots)
		return
	}
	for i, c := range s.plan.Configs {
		if !s.shouldRun(ctx, i, c) {
			continue
		}
		cr := configRun{sweeper: s, c: c, idx: i}
		if c.Server.URL == "" {
			cr.cores = s.plan.Profile.Server.NeuronCores.First()
		}
		cr.run(ctx)
		s.eta.configDone(s.o.Now())
	}
}

// needsRun reports whether any phase of the config is not done, or its
// results were voided (they all run again).
func (s *sweeper) needsRun(config string) bool {
	m := s.m.snapshot()
	if cs := m.Config(config); cs != nil && cs.FailureClass == string(schema.FailureInvalidConfig) {
		return true
	}
	for _, ph := range s.plan.Profile.Load {
		if m.NeedsRun(config, ph.Name) {
			return true
		}
	}
	return false
}

// configRun is one configuration's server lifetime and phases.
type configRun struct {
	*sweeper
	c         profiles.Config
	idx       int
	cores     profiles.CoreSet // the core group it runs on ("" when not pinned)
	measuring bool             // holds the turn to measure (server.measure: serial)
	dir       string
	proc      *server.Process
	client    *http.Client // the load: no timeout (streams), per-request timeouts
	aux       *http.Client // tokenize, metrics: bounded by AuxTimeout
}

// AuxTimeout bounds each out-of-band call to the server (tokenize,
// /metrics), so that a server that accepts connections but never answers
// cannot hang the sweep.
const AuxTimeout = 30 * time.Second

func (r *configRun) tag() string {
	return fmt.Sprintf("[%d/%d] %s", r.idx+1, len(r.plan.Configs), r.c.Name)
}

// run starts the server, waits for it, runs the phases and stops it. Every
// outcome, good or bad, ends up in the manifest and the config's files.
func (r *configRun) run(ctx context.Context) {
	r.dir = filepath.Join(r.sweeper.dir, r.c.Name)
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		r.fail(schema.FailureNone, fmt.Sprintf("cannot create %s: %v", r.dir, err))
		return
	}
	r.c.Server.Dir = r.dir
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		if cs.FailureClass == string(schema.FailureInvalidConfig) {
			// The previous attempt's results were void: none of them stands.
			for i := range cs.Phases {
				cs.Phases[i].Status, cs.Phases[i].Reason = schema.StatusPending, ""
			}
		}
		cs.Status, cs.FailureClass, cs.Reason = schema.StatusRunning, "", ""
		cs.PrefixCacheReset = "" // this attempt's
	})
	keepPreviousLog(r.dir, r.writes)
	for _, w := range r.c.Warnings {
		r.pr.Eventf("%s: warning: %s", r.tag(), w)
	}
	_ = r.writeFile(filepath.Join(r.dir, "command.txt"), []byte(r.c.CommandText())) // a failure is noted and printed

	r.pr.Eventf("%s: starting %s", r.tag(), serverWhat(r.c.Server))
	proc, err := r.o.Servers.Start(ctx, r.c.Server)
	if err != nil {
		r.writeStartup(startupOfError(r.c.Server, err))
		r.fail(server.ClassOf(err), reasonOf(err))
		return
	}
	r.proc = proc
	r.besides.serverUp(r.c.Name)
	// Whatever happens next, the server is stopped before the next config
	// starts — also when ctx is cancelled (Ctrl-C).
	defer r.stop(ctx)

	if err := proc.WaitReady(ctx, r.startupProgress); err != nil {
		st := proc.Startup()
		r.writeStartup(st)
		if ctx.Err() != nil {
			r.interrupt("interrupted while the server was starting")
			return
		}
		class, reason := proc.Failure()
		if class == schema.FailureNone {
			class, reason = server.ClassOf(err), reasonOf(err)
		}
		r.fail(class, reason)
		return
	}
	st := proc.Startup()
	r.writeStartup(st)
	r.pr.Eventf("%s: ready in %s%s", r.tag(), FormatDuration(time.Duration(st.ReadySeconds*float64(time.Second))), cacheNote(st.CompiledArtifacts))
	voided := voidingFinding(st, artifactsMatch(r.c, st.Version))
	if voided != nil {
		r.pr.Eventf("%s: WARNING: %s: %s", r.tag(), voided.Class, voided.Message)
	} else {
		recordArtifacts(r.c, st.Version)
	}

	// The load client (the engine's own connections) sends the API key
	// itself (engine.Options.APIKey, in its request head); the out-of-band
	// calls (tokenize, metrics) get it from the bearer transport, and must
	// never hang a sweep on a wedged server: they are bounded.
	r.client = &http.Client{Transport: engine.NewTransport(64)}
	r.aux = &http.Client{Transport: withBearer(r.c.Server.APIKey, r.client.Transport), Timeout: AuxTimeout}
	wl, err := buildWorkload(ctx, r.plan.Profile.Workload, r.data, r.c.Server.ServedModel, proc.BaseURL(), r.aux)
	if err != nil {
		if ctx.Err() != nil {
			r.interrupt("interrupted while building the workload")
			return
		}
		r.failKeep(r.crashOr(schema.FailureNone), oneLine(err))
		r.skipPending("not run: the workload could not be built")
		return
	}
	defer wl.close()

	if !r.acquireMeasure(ctx) {
		r.interrupt("interrupted while waiting for the turn to measure")
		return
	}
	r.runPhases(ctx, wl)
	if voided != nil {
		r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
			if cs.FailureClass == "" {
				cs.FailureClass, cs.Reason = string(voided.Class), voided.Message
			}
		})
	}
}

// runPhases runs every phase still needed. A server that dies fails the
// config; an interrupt stops after the current phase's partial results are
// written.
func (r *configRun) runPhases(ctx context.Context, wl *builtWorkload) {
	failed := false
	for _, ph := range r.plan.Profile.Load {
		snap := r.m.snapshot()
		if !snap.NeedsRun(r.c.Name, ph.Name) {
			continue
		}
		if ctx.Err() != nil || failed {
			status, reason := schema.StatusSkipped, "not run: the server failed earlier"
			if ctx.Err() != nil {
				status, reason = schema.StatusInterrupted, "not run: interrupted"
			}
			r.setPhase(ph.Name, status, reason)
			continue
		}
		r.setPhase(ph.Name, schema.StatusRunning, "")
		res, err := r.runPhase(ctx, ph, wl)
		switch {
		case res != nil && res.EndReason == schema.EndServerExited:
			class, reason := r.proc.Failure()
			if class == schema.FailureNone {
				class, reason = schema.FailureCrashed, "the server exited during phase "+ph.Name
			}
			r.setPhase(ph.Name, schema.StatusFailed, reason)
			r.failKeep(class, reason)
			failed = true
		case ctx.Err() != nil:
			r.setPhase(ph.Name, schema.StatusInterrupted, "interrupted: partial results")
		case err != nil:
			r.setPhase(ph.Name, schema.StatusFailed, oneLine(err))
			r.pr.Eventf("%s: phase %s failed: %s", r.tag(), ph.Name, oneLine(err))
			if r.exited() {
				r.failKeep(r.crashOr(schema.FailureCrashed), "the server exited: "+oneLine(err))
				failed = true
			}
		case ph.Search != nil:
			r.setPhase(ph.Name, schema.StatusOK, searchReason(res))
			r.pr.Eventf("%s: %s", r.tag(), searchLine(ph.Name, res))
			if r.o.CheckSearches {
				if err := r.checkSearch(ctx, ph, wl, res); err != nil {
					r.pr.Eventf("%s: check of %s: %s", r.tag(), ph.Name, oneLine(err))
				}
			}
		default:
			if why := phaseFailure(res); why != "" {
				r.setPhase(ph.Name, schema.StatusFailed, why)
				r.pr.Eventf("%s: phase %s FAILED: %s", r.tag(), ph.Name, why)
				continue
			}
			r.setPhase(ph.Name, schema.StatusOK, saturatedReason(res))
			r.pr.Eventf("%s: %s", r.tag(), phaseLine(ph.Name, res))
		}
	}
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		switch {
		case cs.Status == schema.StatusFailed:
		case ctx.Err() != nil:
			cs.Status = schema.StatusInterrupted
		default:
			cs.Status = schema.StatusOK
			for _, p := range cs.Phases {
				if p.Status != schema.StatusOK {
					cs.Status = schema.StatusFailed
					if cs.Reason == "" {
						cs.Reason = fmt.Sprintf("phase %s: %s", p.Name, p.Reason)
					}
				}
			}
		}
	})
}

// stop stops the server (also after Ctrl-C: the context is detached) and
// writes the final startup record, with the exit code.
func (r *configRun) stop(ctx context.Context) {
	if r.proc == nil {
		return
	}
	// Our idle connections first: one the transport dialed but never used
	// holds a graceful server shutdown (Go's http.Server, the simulator,
	// waits up to 5 s for it).
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	if err := r.proc.Stop(context.WithoutCancel(ctx)); err != nil {
		r.pr.Eventf("%s: stopping the server: %s", r.tag(), oneLine(err))
	}
	r.besides.serverDown(r.c.Name)
	r.releaseMeasure() // the next configuration is measured once this one has stopped
	r.writeStartup(r.proc.Startup())
}

func (r *configRun) exited() bool {
	select {
	case <-r.proc.Exited():
		return true
	default:
		return false
	}
}

// crashOr is the process's failure class when it exited, else def.
func (r *configRun) crashOr(def schema.FailureClass) schema.FailureClass {
	if r.proc != nil && r.exited() {
		if c, _ := r.proc.Failure(); c != schema.FailureNone {
			return c
		}
		return schema.FailureCrashed
	}
	return def
}
