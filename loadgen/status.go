package loadgen

import (
	"fmt"
	"os"
	"path/filepath"

	"loadgen/loadgen/schema"
	"loadgen/server"
)

// The outcome of a configuration, recorded as it happens: the manifest's
// statuses, startup.json, and the earlier attempt's log on a resume.

// fail records that the server did not start, says so in one line, and
// marks the phases not run.
func (r *configRun) fail(class schema.FailureClass, reason string) {
	r.failKeep(class, reason)
	r.skipPending("not run: the server did not start")
}

// skipPending marks every phase that did not run as skipped, with why.
func (r *configRun) skipPending(why string) {
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		for i := range cs.Phases {
			if cs.Phases[i].Status == schema.StatusPending || cs.Phases[i].Status == schema.StatusRunning {
				cs.Phases[i].Status, cs.Phases[i].Reason = schema.StatusSkipped, why
			}
		}
	})
}

func (r *configRun) failKeep(class schema.FailureClass, reason string) {
	r.pr.Eventf("%s: FAILED: %s", r.tag(), classReason(class, reason))
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		cs.Status, cs.FailureClass, cs.Reason = schema.StatusFailed, string(class), reason
	})
}

func (r *configRun) interrupt(reason string) {
	r.pr.Eventf("%s: %s", r.tag(), reason)
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		cs.Status, cs.Reason = schema.StatusInterrupted, reason
		for i := range cs.Phases {
			if cs.Phases[i].Status != schema.StatusOK {
				cs.Phases[i].Status = schema.StatusInterrupted
			}
		}
	})
}

func (r *configRun) setPhase(name, status, reason string) {
	r.m.config(r.c.Name, func(cs *schema.ConfigStatus) {
		if p := cs.Phase(name); p != nil {
			p.Status, p.Reason = status, reason
		}
	})
}

func (r *configRun) writeStartup(st schema.Startup) {
	st.Simulated = r.o.Simulate
	_ = r.writeJSON(filepath.Join(r.dir, "startup.json"), st) // a failure is noted and printed
}

// startupOfError is the startup record of a server that could not even be
// launched (pre-flight failure).
func startupOfError(c server.Config, err error) schema.Startup {
	return schema.Startup{
		SchemaVersion: schema.StartupSchemaVersion,
		Config:        c.Name,
		Remote:        c.Remote(),
		URL:           c.BaseURL(),
		FailureClass:  server.ClassOf(err),
		Reason:        reasonOf(err),
	}
}

// voidingFinding returns the first non-fatal finding that makes the
// config's results invalid: a typo in the override, or artifacts compiled
// for something else (the plugin's "override ignored" line is the expected
// cache hit when the artifacts are the ones loadgen recorded for this
// config).
func voidingFinding(st schema.Startup, artifactsOurs bool) *schema.LogFinding {
	for _, f := range st.Findings {
		switch {
		case f.Fatal:
		case f.Class == schema.FailureInvalidConfig:
			return &f
		case f.Class == schema.NoteArtifactsReused && !artifactsOurs:
			f.Class = schema.FailureInvalidConfig
			f.Message = "the reused compiled artifacts were not recorded for this config (" + f.Message + ")"
			return &f
		}
	}
	return nil
}

// keepPreviousLog renames the server.log of an earlier attempt (a resumed
// sweep) to server.<n>.log, so that the log that explained a failure is not
// overwritten by the retry.
func keepPreviousLog(dir string, writes *writeLog) {
	old := filepath.Join(dir, server.LogFile)
	if _, err := os.Stat(old); err != nil {
		return
	}
	for n := 1; ; n++ {
		kept := filepath.Join(dir, fmt.Sprintf("server.%d.log", n))
		if _, err := os.Stat(kept); os.IsNotExist(err) {
			writes.note(kept, os.Rename(old, kept))
			return
		}
	}
}
