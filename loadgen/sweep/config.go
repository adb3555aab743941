package sweep

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"loadgen/loadgen"
	"loadgen/loadgen/report"
	"loadgen/profiles"
	"loadgen/server"
)

// sweeper runs the configurations of a plan one after another.
type sweeper struct {
	o    Options
	plan *profiles.Plan
	dir  string
	m    *manifestState
	pr   *Printer
	eta  eta
}

// run runs every configuration that still needs it; a failed configuration
// is recorded and the sweep goes on. It returns when all are done or ctx is
// cancelled.
func (s *sweeper) run(ctx context.Context) {
	s.eta.start(s.o.Now(), len(s.plan.Configs))
	for i, c := range s.plan.Configs {
		if ctx.Err() != nil {
			s.m.config(c.Name, func(cs *report.ConfigStatus) {
				if cs.Status == report.StatusPending || cs.Status == report.StatusRunning {
					cs.Status = report.StatusInterrupted
				}
			})
			continue
		}
		if !s.needsRun(c.Name) {
			s.pr.Eventf("[%d/%d] %s: already done (resume)", i+1, len(s.plan.Configs), c.Name)
			s.eta.configDone(s.o.Now())
			continue
		}
		cr := configRun{sweeper: s, c: c, idx: i}
		cr.run(ctx)
		s.eta.configDone(s.o.Now())
	}
}

// needsRun reports whether any phase of the config is not done.
func (s *sweeper) needsRun(config string) bool {
	m := s.m.snapshot()
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
	c      profiles.Config
	idx    int
	dir    string
	proc   *server.Process
	client *http.Client
}

func (r *configRun) tag() string {
	return fmt.Sprintf("[%d/%d] %s", r.idx+1, len(r.plan.Configs), r.c.Name)
}

// run starts the server, waits for it, runs the phases and stops it. Every
// outcome, good or bad, ends up in the manifest and the config's files.
func (r *configRun) run(ctx context.Context) {
	r.dir = filepath.Join(r.sweeper.dir, r.c.Name)
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		r.fail(server.FailureNone, fmt.Sprintf("cannot create %s: %v", r.dir, err))
		return
	}
	r.c.Server.Dir = r.dir
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		cs.Status, cs.FailureClass, cs.Reason = report.StatusRunning, "", ""
	})
	for _, w := range r.c.Warnings {
		r.pr.Eventf("%s: warning: %s", r.tag(), w)
	}
	_ = report.WriteFileAtomic(filepath.Join(r.dir, "command.txt"), []byte(r.c.Server.CommandLine()))

	artifactsOurs := artifactsMatch(r.c)
	r.pr.Eventf("%s: starting %s", r.tag(), serverWhat(r.c.Server))
	proc, err := server.Start(ctx, r.c.Server)
	if err != nil {
		r.writeStartup(startupOfError(r.c.Server, err))
		r.fail(server.ClassOf(err), oneLine(err))
		return
	}
	r.proc = proc
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
		if class == server.FailureNone {
			class, reason = server.ClassOf(err), oneLine(err)
		}
		r.fail(class, reason)
		return
	}
	st := proc.Startup()
	r.writeStartup(st)
	r.pr.Eventf("%s: ready in %s%s", r.tag(), FormatDuration(time.Duration(st.ReadySeconds*float64(time.Second))), cacheNote(st.CompiledArtifacts))
	voided := voidingFinding(st, artifactsOurs)
	if voided != nil {
		r.pr.Eventf("%s: WARNING: %s: %s", r.tag(), voided.Class, voided.Message)
	} else {
		recordArtifacts(r.c)
	}

	r.client = &http.Client{Transport: loadgen.NewTransport(64)}
	if key := r.c.Server.APIKey; key != "" {
		r.client.Transport = bearer{key: key, next: r.client.Transport}
	}
	wl, err := buildWorkload(ctx, r.plan.Profile.Workload, r.c.Server.ServedModel, proc.BaseURL(), r.client)
	if err != nil {
		if ctx.Err() != nil {
			r.interrupt("interrupted while building the workload")
			return
		}
		r.fail(r.crashOr(server.FailureNone), "workload: "+oneLine(err))
		return
	}
	defer wl.close()

	r.runPhases(ctx, wl)
	if voided != nil {
		r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
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
			status, reason := report.StatusSkipped, "not run: the server failed earlier"
			if ctx.Err() != nil {
				status, reason = report.StatusInterrupted, "not run: interrupted"
			}
			r.setPhase(ph.Name, status, reason)
			continue
		}
		r.setPhase(ph.Name, report.StatusRunning, "")
		res, err := r.runPhase(ctx, ph, wl)
		switch {
		case res != nil && res.EndReason == "server_exited":
			class, reason := r.proc.Failure()
			if class == server.FailureNone {
				class, reason = server.FailureCrashed, "the server exited during phase "+ph.Name
			}
			r.setPhase(ph.Name, report.StatusFailed, reason)
			r.failKeep(class, reason)
			failed = true
		case ctx.Err() != nil:
			r.setPhase(ph.Name, report.StatusInterrupted, "interrupted: partial results")
		case err != nil:
			r.setPhase(ph.Name, report.StatusFailed, oneLine(err))
			r.pr.Eventf("%s: phase %s failed: %s", r.tag(), ph.Name, oneLine(err))
			if r.exited() {
				r.failKeep(r.crashOr(server.FailureCrashed), "the server exited: "+oneLine(err))
				failed = true
			}
		default:
			r.setPhase(ph.Name, report.StatusOK, "")
			r.pr.Eventf("%s: %s", r.tag(), phaseLine(ph.Name, res))
		}
	}
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		switch {
		case cs.Status == report.StatusFailed:
		case ctx.Err() != nil:
			cs.Status = report.StatusInterrupted
		default:
			cs.Status = report.StatusOK
			for _, p := range cs.Phases {
				if p.Status != report.StatusOK {
					cs.Status = report.StatusFailed
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
func (r *configRun) crashOr(def server.FailureClass) server.FailureClass {
	if r.proc != nil && r.exited() {
		if c, _ := r.proc.Failure(); c != server.FailureNone {
			return c
		}
		return server.FailureCrashed
	}
	return def
}

// fail records the config as failed and says so in one line.
func (r *configRun) fail(class server.FailureClass, reason string) {
	r.failKeep(class, reason)
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		for i := range cs.Phases {
			if cs.Phases[i].Status == report.StatusPending || cs.Phases[i].Status == report.StatusRunning {
				cs.Phases[i].Status, cs.Phases[i].Reason = report.StatusSkipped, "not run: the server did not start"
			}
		}
	})
}

func (r *configRun) failKeep(class server.FailureClass, reason string) {
	r.pr.Eventf("%s: FAILED: %s", r.tag(), classReason(class, reason))
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		cs.Status, cs.FailureClass, cs.Reason = report.StatusFailed, string(class), reason
	})
}

func (r *configRun) interrupt(reason string) {
	r.pr.Eventf("%s: %s", r.tag(), reason)
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		cs.Status, cs.Reason = report.StatusInterrupted, reason
		for i := range cs.Phases {
			if cs.Phases[i].Status != report.StatusOK {
				cs.Phases[i].Status = report.StatusInterrupted
			}
		}
	})
}

func (r *configRun) setPhase(name, status, reason string) {
	r.m.config(r.c.Name, func(cs *report.ConfigStatus) {
		if p := cs.Phase(name); p != nil {
			p.Status, p.Reason = status, reason
		}
	})
}

func (r *configRun) writeStartup(st server.Startup) {
	_ = report.WriteJSONAtomic(filepath.Join(r.dir, "startup.json"), st)
}

// startupOfError is the startup record of a server that could not even be
// launched (pre-flight failure).
func startupOfError(c server.Config, err error) server.Startup {
	return server.Startup{
		SchemaVersion: server.StartupSchemaVersion,
		Config:        c.Name,
		Remote:        c.Remote(),
		URL:           c.BaseURL(),
		FailureClass:  server.ClassOf(err),
		Reason:        oneLine(err),
	}
}

// voidingFinding returns the first non-fatal finding that makes the
// config's results invalid: a typo in the override, or artifacts compiled
// for something else (the plugin's "override ignored" line is the expected
// cache hit when the artifacts are the ones loadgen recorded for this
// config).
func voidingFinding(st server.Startup, artifactsOurs bool) *server.LogFinding {
	for i, f := range st.Findings {
		if artifactsOurs && isOverrideIgnored(f) {
			continue
		}
		if !f.Fatal && f.Class == server.FailureInvalidConfig {
			return &st.Findings[i]
		}
	}
	return nil
}

// bearer adds the API key to requests (tokenizer and metrics calls).
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(req)
}

// CloseIdleConnections passes http.Client.CloseIdleConnections through.
func (b bearer) CloseIdleConnections() {
	if c, ok := b.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
