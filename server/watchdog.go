package server

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"loadgen/loadgen/schema"
)

// How no server outlives loadgen
//
// Stop, Kill and Owner.KillAll end a server's process group while loadgen runs.
// For the deaths that run no Go code (a panic in any goroutine but main's,
// SIGKILL, the OOM killer, os.Exit), every server Start launches gets a
// watchdog: a POSIX sh in a process group of its own, running
//
//	trap '' HUP INT TERM; read -r _; kill -s KILL -- "-$1"
//
// with the server's process group id as $1. Its stdin is the read end of a
// pipe whose write end only loadgen holds: os.Pipe opens both ends
// O_CLOEXEC and exec passes a child only the files it lists, so neither the
// server nor any other child inherits it. loadgen never writes to it. When
// loadgen dies, by whatever path, the kernel closes the write end, read
// sees end of file, and the watchdog SIGKILLs the whole group: vLLM's API
// server and its EngineCore and worker processes alike. (Pdeathsig, see
// sysproc_linux.go, kills only the API server.) The watchdog ignores the
// terminal's and anyone's SIGHUP, SIGINT and SIGTERM, so only the closed
// pipe fires it and only SIGKILL ends it early; being in its own group, it
// is neither signalled with the server's group nor counted as its member.
//
// PID reuse. A group id can be handed out again only once no process, not
// even a zombie, is left in the group. The group leader is loadgen's child,
// and loadgen does not reap it when it exits (exitwait_linux.go waits with
// WNOWAIT): it stays a zombie, and so keeps the group id ours, until
// Process.reap, which first disposes of the watchdog (SIGKILL, then wait
// for it) and only then reaps the leader. So for as long as a watchdog can
// fire, its group id names our group (perhaps holding only the zombie, when
// the kill is harmless), and every signal loadgen itself sends to the group
// is sent under the same lock, before the reap. Verifying the group from sh
// at firing time instead could not tell a recycled id from ours.
//
// One window remains: when loadgen dies, its zombie leader passes to init,
// which may reap it between the moment the pipe closes and the moment the
// woken watchdog runs kill. Only if the kernel handed out every other
// process id in between (pid_max of them, in microseconds) could that kill
// reach a stranger; Linux allocates ids cyclically, so it does not happen.
//
// The server starts a moment before its watchdog; if loadgen dies in
// between, Pdeathsig still kills the API server, which has not spawned its
// engine yet. Without /bin/sh, Start runs the server without a watchdog and
// says so in Startup.Findings (WarningNoWatchdog).

// watchdogShell is the shell that runs watchdogs; a variable so that a
// test can take it away.
var watchdogShell = "/bin/sh"

// watchdogScript is the watchdog: wait for end of file on stdin, then
// SIGKILL the process group $1.
const watchdogScript = `trap '' HUP INT TERM; read -r _; kill -s KILL -- "-$1"`

// watchdog is the running watchdog of one server.
type watchdog struct {
	cmd *exec.Cmd
	// w is the pipe's write end. Holding it is the point: its finalizer
	// would close it (and fire the watchdog) if it became unreachable.
	w    *os.File
	once sync.Once
}

// startWatchdog starts a watchdog for process group pgid.
func startWatchdog(pgid int) (*watchdog, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("watchdog pipe: %w", err)
	}
	cmd := exec.Command(watchdogShell, "-c", watchdogScript, "loadgen-watchdog", strconv.Itoa(pgid))
	cmd.Stdin = r // stdout and stderr are /dev/null
	cmd.Env = []string{}
	cmd.Dir = "/"
	// Its own group; no Pdeathsig, since it must outlive loadgen.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return &watchdog{cmd: cmd, w: w}, nil
}

// pid returns the watchdog's process id (0 for none).
func (wd *watchdog) pid() int {
	if wd == nil {
		return 0
	}
	return wd.cmd.Process.Pid
}

// dispose kills the watchdog and waits for it, so that it can never fire,
// then closes the pipe. It is idempotent, safe for concurrent use (a
// second caller returns once the first is done) and a no-op on nil.
func (wd *watchdog) dispose() {
	if wd == nil {
		return
	}
	wd.once.Do(func() {
		// Closing w first would fire it: kill, reap, then close.
		_ = wd.cmd.Process.Kill()
		_ = wd.cmd.Wait()
		wd.w.Close()
	})
}

// noWatchdogFinding is the Startup finding of a server that runs without
// a watchdog because it could not be started.
func noWatchdogFinding(err error) schema.LogFinding {
	return schema.LogFinding{
		Class: schema.WarningNoWatchdog,
		Line:  err.Error(),
		Message: fmt.Sprintf("no watchdog (%s is needed): if loadgen is killed or crashes, only the server's main process is killed and its engine processes may keep the NeuronCores",
			watchdogShell),
	}
}
