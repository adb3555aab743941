package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"loadgen/loadgen/schema"
)

// LogFile is the name of the server's log in Config.Dir.
const LogFile = "server.log"

// drainWait bounds how long, after the server exits, its classification
// waits for the rest of its output (a surviving grandchild may keep the
// pipe open).
const drainWait = 2 * time.Second

// Process is one server: a `vllm serve` child process that Start launched
// in its own process group, watched by a watchdog (watchdog.go), or
// (Config.URL set) a server somebody else runs. It goes through started →
// ready → stopping → exited; its methods are safe for concurrent use.
type Process struct {
	cfg     Config
	owner   *Owner // nil for a remote server
	baseURL string
	client  *http.Client
	remote  bool
	started time.Time
	watch   *logWatch

	cmd *exec.Cmd
	pid int // also the process group id
	// wd kills the group if loadgen dies (nil if none could be started:
	// noWatchdog says why).
	wd         *watchdog
	noWatchdog error
	// exited is closed when the child has exited (never for remote);
	// settled when, after that, its output is drained (or drainWait passed);
	// logDone when the output pipe reached EOF and server.log is closed.
	exited  chan struct{}
	settled chan struct{}
	logDone chan struct{}
	// stopping is set before loadgen signals the group, so that the exit
	// that follows is not taken for a crash.
	stopping atomic.Bool
	// fatalGrace is how long WaitReady gives a server that logged a fatal
	// line to exit on its own before giving up on it.
	fatalGrace time.Duration

	// reapMu guards leaderReaped and released. Every signal loadgen sends
	// to the group is sent under it, so none can reach a recycled group id.
	reapMu       sync.Mutex
	leaderReaped bool // the leader is reaped: its id is free once the group is empty
	released     bool // reap ran: loadgen signals the group no more
	reapOnce     sync.Once

	mu         sync.Mutex
	exitStatus syscall.WaitStatus // valid once exitAt is set, if exitErr is nil
	exitErr    error              // waiting for the exit failed
	exitAt     time.Time
	exitByStop bool // the group was being stopped when the child exited
	ready      bool
	readyAt    time.Time
	version    string
	failClass  schema.FailureClass // set by WaitReady: timeout, model, interrupted
	failReason string
	logErr     error
	stopOnce   sync.Once
	stopErr    error
}

// withDefaults fills in the zero fields of cfg.
func withDefaults(cfg Config) Config {
	if cfg.Host == "" && cfg.URL == "" {
		cfg.Host = DefaultHost
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	return cfg
}

// Start launches the server that cfg describes, owned by o, and returns
// at once; call WaitReady next, and Stop when done (also after a failed
// WaitReady):
//
//	p, err := owner.Start(ctx, cfg)
//	if err != nil { … record server.ClassOf(err) … }
//	defer p.Stop(context.WithoutCancel(ctx))
//	err = p.WaitReady(ctx, show)
//
// Before launching it checks that cfg.Argv[0] is in PATH and that the port
// is free; those errors are *Error values of class FailureCommandNotFound
// and FailureAddressInUse. The child runs in its own process group with
// the inherited environment overridden by cfg.Env (childEnv); its stdout
// and stderr go to cfg.Dir/server.log (when Dir is set) and to the log
// watch. Start writes no other file. The server belongs to o until Stop
// gives it up: o.KillAll reaches it. On Linux a watchdog process SIGKILLs
// the whole group if loadgen dies without stopping it, by any means
// (watchdog.go); without /bin/sh the server runs without one and
// Startup.Findings says so. With cfg.URL set it launches nothing and
// returns a remote Process, which o does not hold. Start does not tie the
// child to ctx: cancelling ctx never kills the server, Stop does.
func (o *Owner) Start(ctx context.Context, cfg Config) (*Process, error) {
	if o == nil {
		return nil, fmt.Errorf("start %s: no owner for the server", cfg.Name)
	}
	cfg = withDefaults(cfg)
	p := &Process{
		cfg:        cfg,
		baseURL:    cfg.BaseURL(),
		client:     newProbeClient(),
		remote:     cfg.Remote(),
		exited:     make(chan struct{}),
		settled:    make(chan struct{}),
		logDone:    make(chan struct{}),
		fatalGrace: time.Minute,
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Class: schema.FailureInterrupted, Reason: "interrupted before the server was started", Err: err}
	}
	p.started = time.Now()
	p.watch = newLogWatch(p.started, time.Now, contextOf(cfg))
	if p.remote {
		return p, nil
	}
	path, err := lookCommand(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkPort(cfg.Host, cfg.Port); err != nil {
		return nil, err
	}
	var logFile *os.File
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
		}
		if logFile, err = os.Create(filepath.Join(cfg.Dir, LogFile)); err != nil {
			return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		closeFile(logFile)
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	p.cmd = exec.Command(path, cfg.Argv[1:]...)
	p.cmd.Args[0] = cfg.Argv[0]
	p.cmd.Env = childEnv(os.Environ(), cfg.Env)
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = sysProcAttr()

	// The child writes straight into the pipe (an *os.File), so cmd.Wait
	// returns as soon as the child exits even if a grandchild still holds
	// the pipe; our reader copies it to server.log until EOF.
	startErr := make(chan error, 1)
	go p.run(startErr)
	err = <-startErr
	w.Close()
	if err != nil {
		r.Close()
		closeFile(logFile)
		return nil, &Error{Class: schema.FailureCommandNotFound, Err: err,
			Reason: fmt.Sprintf("cannot run %s: %v; on a machine without Inferentia, use --simulate", path, err)}
	}
	p.pid = p.cmd.Process.Pid
	if watchdogs {
		p.wd, p.noWatchdog = startWatchdog(p.pid)
	}
	p.owner = o
	o.register(p)
	go p.copyLog(r, logFile)
	return p, nil
}

// EnvAPIKey is where vLLM reads the API key it then requires on /v1
// routes.
// source: vllm-project/vllm vllm/envs.py (VLLM_API_KEY) and
// vllm/entrypoints/openai/api_server.py (args.api_key or envs.VLLM_API_KEY),
// the same in v0.10.2 and v0.11.0
const EnvAPIKey = "VLLM_API_KEY"

// childEnv is a launched server's environment: loadgen's own, overridden
// by env (exec.Cmd keeps the last value of a duplicated key). An inherited
// VLLM_API_KEY is left out: a vLLM host often exports one, and the server
// would then refuse loadgen, which sends only the key the profile gives
// (server.api_key_env, which puts VLLM_API_KEY in env). What command.txt
// and the dry run show is what decides whether the server is secured.
func childEnv(inherited, env []string) []string {
	out := make([]string, 0, len(inherited)+len(env))
	for _, kv := range inherited {
		if k, _, _ := strings.Cut(kv, "="); k != EnvAPIKey {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// run starts the child and is the one goroutine that waits for it to
// exit; on Linux it leaves it unreaped (awaitExit), for reap. It stays
// locked to its OS thread so that Pdeathsig (sysproc_linux.go) fires only
// when loadgen itself dies; the thread is discarded with it.
func (p *Process) run(started chan<- error) {
	runtime.LockOSThread()
	err := p.cmd.Start()
	started <- err
	if err != nil {
		return
	}
	ws, reaped, werr := awaitExit(p.cmd)
	if reaped {
		p.reapMu.Lock()
		p.leaderReaped = true
		p.reapMu.Unlock()
	}
	p.mu.Lock()
	p.exitStatus, p.exitErr, p.exitAt = ws, werr, time.Now()
	p.exitByStop = p.stopping.Load()
	p.mu.Unlock()
	close(p.exited)
	t := time.NewTimer(drainWait)
	select {
	case <-p.logDone:
	case <-t.C:
	}
	t.Stop()
	close(p.settled)
}

// reapNow waits for and reaps the child cmd started.
func reapNow(cmd *exec.Cmd) (ws syscall.WaitStatus, reaped bool, err error) {
	err = cmd.Wait()
	if cmd.ProcessState == nil {
		return 0, true, err
	}
	ws, _ = cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ws, true, nil
}

// copyLog copies the child's output to the log file and the log watch
// until every holder of the pipe has closed it.
func (p *Process) copyLog(r *os.File, logFile *os.File) {
	defer close(p.logDone)
	var dst io.Writer = p.watch
	var fw *failWriter
	if logFile != nil {
		fw = &failWriter{w: logFile}
		dst = io.MultiWriter(fw, p.watch)
	}
	_, err := io.Copy(dst, r)
	r.Close()
	p.watch.flush()
	if fw != nil {
		err = firstErr(fw.err, err, logFile.Close())
	}
	if err != nil {
		p.mu.Lock()
		p.logErr = fmt.Errorf("server.log of %s: %w", p.cfg.Name, err)
		p.mu.Unlock()
	}
}

// failWriter writes to w until the first error, then discards, so that a
// full disk never blocks the server on its output pipe.
type failWriter struct {
	w   io.Writer
	err error
}

func (f *failWriter) Write(b []byte) (int, error) {
	if f.err == nil {
		_, f.err = f.w.Write(b)
	}
	return len(b), nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// closeFile closes f if it is not nil.
func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// BaseURL is the server's root URL without a trailing slash.
func (p *Process) BaseURL() string { return p.baseURL }

// PID is the server's process id, which is also its process group id (0
// for a remote server).
func (p *Process) PID() int { return p.pid }

// Exited is closed as soon as the child has exited, whoever ended it. It
// is never closed for a remote server.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// hasExited reports whether the child has exited.
func (p *Process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Failure returns the current classification and its one-line reason
// (without the class prefix); FailureNone when all is well. After the
// server became ready, an exit loadgen did not ask for is FailureCrashed
// with the cause the log names. A warning that voids the run
// (FailureInvalidConfig) is reported while the server keeps running.
func (p *Process) Failure() (schema.FailureClass, string) {
	if p.hasExited() {
		<-p.settled
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failureLocked()
}

// failureLocked classifies; p.mu is held.
func (p *Process) failureLocked() (schema.FailureClass, string) {
	if p.failClass != schema.FailureNone {
		return p.failClass, p.failReason
	}
	cause, hasCause := p.watch.cause()
	if !p.exitAt.IsZero() && !p.exitByStop {
		how := describeExit(p.exitStatus, p.exitErr)
		switch {
		case p.ready && hasCause:
			return schema.FailureCrashed, fmt.Sprintf("the server died after it was ready (%s): %s: %s", how, cause.Class, cause.Message)
		case p.ready:
			return schema.FailureCrashed, fmt.Sprintf("the server died after it was ready (%s) and the log names no cause loadgen knows; see server.log", how)
		case hasCause:
			return cause.Class, cause.Message
		default:
			return schema.FailureExited, fmt.Sprintf("the server exited (%s) before it was ready and the log names no cause loadgen knows; see server.log", how)
		}
	}
	if hasCause {
		return cause.Class, cause.Message
	}
	if w, ok := p.watch.warning(); ok {
		return schema.FailureInvalidConfig, w.Message
	}
	return schema.FailureNone, ""
}

// describeExit says how a process ended: "exit status 1", "killed by
// SIGKILL (out of host memory?)"; err is the failure to find out.
func describeExit(ws syscall.WaitStatus, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
		return "killed by SIGKILL, maybe by the kernel for lack of host memory"
	case ws.Signaled():
		return "killed by signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", exitCode(ws))
}

// exitCode is the exit code of ws, or -1 when a signal ended the process.
func exitCode(ws syscall.WaitStatus) int {
	if !ws.Exited() {
		return -1
	}
	return ws.ExitStatus()
}

// Startup returns a snapshot of the startup record for
// <config>/startup.json: phases with durations, compiled-artifacts cache
// outcome, exit code, failure class and reason, notable log lines and the
// last lines of the log.
func (p *Process) Startup() schema.Startup {
	if p.hasExited() {
		<-p.settled
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	end := p.exitAt
	if end.IsZero() {
		end = time.Now()
	}
	phases, artifacts, findings := p.watch.snapshot(end)
	s := schema.Startup{
		SchemaVersion:     schema.StartupSchemaVersion,
		Config:            p.cfg.Name,
		Remote:            p.remote,
		URL:               p.baseURL,
		PID:               p.pid,
		Started:           p.started,
		Ready:             p.ready,
		Phases:            phases,
		CompiledArtifacts: artifacts,
		Findings:          findings,
		LastLines:         p.watch.lastLines(ringLines),
		Version:           p.version,
	}
	if p.ready {
		s.ReadySeconds = roundSeconds(p.readyAt.Sub(p.started))
	}
	if !p.exitAt.IsZero() && p.exitErr == nil {
		code := exitCode(p.exitStatus)
		s.ExitCode = &code
		if p.exitStatus.Signaled() {
			s.Signal = p.exitStatus.Signal().String()
		}
	}
	if p.noWatchdog != nil {
		s.Findings = append(s.Findings, noWatchdogFinding(p.noWatchdog))
	}
	s.FailureClass, s.Reason = p.failureLocked()
	return s
}
