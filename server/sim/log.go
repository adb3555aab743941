package sim

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// logger writes log lines in the shape vLLM and vllm-neuron print them:
//
//	(APIServer pid=123) INFO 10-31 20:20:44 [api_server.py:1896] message
//	(EngineCore_DP0 pid=123) INFO:Neuron:message
//
// vLLM's logger writes to stdout; tracebacks and runtime (NRT) errors go
// to stderr, as Python prints them.
type logger struct {
	mu       sync.Mutex
	out, err io.Writer
	pid      int
	now      func() time.Time
}

func newLogger(out, errw io.Writer) *logger {
	if out == nil {
		out = io.Discard
	}
	if errw == nil {
		errw = io.Discard
	}
	return &logger{out: out, err: errw, pid: os.Getpid(), now: time.Now}
}

func (l *logger) write(w io.Writer, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(w, line+"\n")
}

func (l *logger) stamp(level, file string) string {
	return fmt.Sprintf("%s %s [%s]", level, l.now().Format("01-02 15:04:05"), file)
}

// plugin logs a line of the top-level process before the API server's
// prefix exists ("INFO 10-31 20:20:44 [__init__.py:207] …").
func (l *logger) plugin(level, file, format string, a ...any) {
	l.write(l.out, l.stamp(level, file)+" "+fmt.Sprintf(format, a...))
}

// api logs an APIServer line.
func (l *logger) api(level, file, format string, a ...any) {
	l.write(l.out, fmt.Sprintf("(APIServer pid=%d) ", l.pid)+l.stamp(level, file)+" "+fmt.Sprintf(format, a...))
}

// engine logs an EngineCore line.
func (l *logger) engine(level, file, format string, a ...any) {
	l.write(l.out, fmt.Sprintf("(EngineCore_DP0 pid=%d) ", l.pid)+l.stamp(level, file)+" "+fmt.Sprintf(format, a...))
}

// pylog logs a line through Python's plain logging format inside the engine
// ("INFO:Neuron:…", "WARNING:vllm_neuron.…:…").
func (l *logger) pylog(level, name, format string, a ...any) {
	l.write(l.out, fmt.Sprintf("(EngineCore_DP0 pid=%d) %s:%s:", l.pid, level, name)+fmt.Sprintf(format, a...))
}

// uvicorn logs a uvicorn line ("INFO:     Started server process [123]").
func (l *logger) uvicorn(format string, a ...any) {
	l.write(l.out, fmt.Sprintf("(APIServer pid=%d) INFO:     ", l.pid)+fmt.Sprintf(format, a...))
}

// traceback prints a Python traceback ending in exception, prefixed like
// the process that raised it, to stderr.
func (l *logger) traceback(engine bool, frames []string, exception string) {
	prefix := fmt.Sprintf("(APIServer pid=%d) ", l.pid)
	if engine {
		prefix = fmt.Sprintf("(EngineCore_DP0 pid=%d) ", l.pid)
	}
	var b strings.Builder
	b.WriteString(prefix + "Traceback (most recent call last):\n")
	for _, f := range frames {
		b.WriteString(prefix + "  " + f + "\n")
	}
	b.WriteString(prefix + exception)
	l.write(l.err, b.String())
}

// raw writes a line as is, to stderr when toErr.
func (l *logger) raw(toErr bool, line string) {
	if toErr {
		l.write(l.err, line)
		return
	}
	l.write(l.out, line)
}
