// Package server launches, watches and stops a vLLM server (`vllm serve`, or
// the built-in simulator started through the same code path), waits for it
// to become ready through a long Neuron compile, classifies startup
// failures from its log (with the rules of package neuron's table for the
// stack it runs), and scrapes its Prometheus /metrics. It also probes an
// Inferentia host for `loadgen doctor` and for the sweep's stack detection:
// the Python environment behind the vllm on PATH, neuron-ls, free disk.
//
// Of loadgen's packages it imports only schema and server/neuron: a Config
// is plain data that the profiles package builds from a profile.
package server

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults for the fields of Config that are left zero.
const (
	DefaultReadyTimeout = 90 * time.Minute
	DefaultStopGrace    = 30 * time.Second
	DefaultHost         = "127.0.0.1"
	DefaultPort         = 8000
)

// Config describes one server to launch (or, with URL set, one server that
// somebody else runs). It is plain data: the profiles package builds it, the
// sweep fills in Dir.
type Config struct {
	// Name is the configuration's name, used in messages and file names.
	Name string
	// Argv is the full command line; Argv[0] is looked up in PATH. It is
	// executed directly, never through a shell.
	Argv []string
	// Env holds "KEY=VALUE" entries set on top of the inherited environment
	// (a key given here replaces the inherited value).
	Env []string
	// Host and Port are where the server listens and where it is probed.
	Host string
	Port int
	// ServedModel is the model name that GET /v1/models must list before
	// the server counts as ready, and the "model" field of requests.
	ServedModel string
	// Dir is the per-configuration output directory (server.log lives
	// there). Empty means no log file, only the in-memory tail.
	Dir string
	// ReadyTimeout bounds the wait for readiness (compiles take 30+ min).
	ReadyTimeout time.Duration
	// StopGrace is the time between SIGTERM and SIGKILL to the group.
	StopGrace time.Duration
	// URL, when set, names a server someone else runs: nothing is launched
	// and only readiness is checked.
	URL string
	// APIKey, when set, is sent as a bearer token on every probe.
	APIKey string
	// Stack names the vllm-neuron stack whose rules classify the server's
	// log (package neuron); "" means neuron.DefaultName.
	Stack string
}

// Remote reports whether the config names an externally run server.
func (c Config) Remote() bool { return c.URL != "" }

// BaseURL is the server's root URL without a trailing slash,
// e.g. "http://127.0.0.1:8000". A URL given as ".../v1" is cut to its root.
func (c Config) BaseURL() string {
	if c.URL != "" {
		// Accept the OpenAI-style base URL ("…/v1") too.
		return strings.TrimSuffix(strings.TrimRight(c.URL, "/"), "/v1")
	}
	host := c.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = DefaultHost
	}
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// secretKey reports whether an environment variable or flag name looks like
// it carries a secret, so its value must not be written to disk: one of its
// "_"/"-"-separated words is KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL(S)
// (HF_TOKEN, --api-key, AWS_SECRET_ACCESS_KEY — but not
// --max-num-batched-tokens).
func secretKey(name string) bool {
	words := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool { return r == '-' || r == '_' })
	for _, w := range words {
		switch w {
		case "KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS":
			return true
		}
	}
	return false
}

// Redacted is the placeholder written in place of a secret value.
const Redacted = "<redacted>"

// RedactedArgv returns a copy of argv where the value following a flag that
// looks secret (--api-key, --hf-token, …) or given inline (--api-key=x) is
// replaced by Redacted.
func RedactedArgv(argv []string) []string {
	out := make([]string, len(argv))
	copy(out, argv)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		if k, _, ok := strings.Cut(a, "="); ok {
			if secretKey(k) {
				out[i] = k + "=" + Redacted
			}
			continue
		}
		if secretKey(a) && i+1 < len(out) && !strings.HasPrefix(out[i+1], "--") {
			out[i+1] = Redacted
			i++
		}
	}
	return out
}

// RedactedEnv returns a sorted copy of env ("KEY=VALUE") with secret values
// replaced by Redacted.
func RedactedEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if secretKey(k) {
			kv = k + "=" + Redacted
		}
		out = append(out, kv)
	}
	sort.Strings(out)
	return out
}

// ShellQuote quotes one word for a POSIX shell so that it can be copied and
// pasted: words made only of safe characters are left alone, everything else
// is wrapped in single quotes.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_./:=,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CommandLine renders the environment and argv as one copy-pasteable shell
// command, secrets redacted: `K=V K2=V2 vllm serve ... \` with one flag per
// continuation line after the positional arguments.
func (c Config) CommandLine() string {
	var b strings.Builder
	for _, kv := range RedactedEnv(c.Env) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "%s=%s \\\n  ", k, ShellQuote(v))
	}
	argv := RedactedArgv(c.Argv)
	for i, a := range argv {
		if i > 0 {
			if strings.HasPrefix(a, "--") {
				b.WriteString(" \\\n  ")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(ShellQuote(a))
	}
	b.WriteByte('\n')
	return b.String()
}
