package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"loadgen/server/neuron"
)

// PyEnv is what loadgen learns about the Python environment that runs the
// `vllm` on PATH: which packages of the stack it holds, in which versions.
type PyEnv struct {
	// VLLM is the vllm executable found on PATH ("" when none).
	VLLM string
	// Interpreter is the Python that runs it: its #! line, else python3
	// or python beside it ("" when none was found).
	Interpreter string
	// Prefix is that environment's sys.prefix (from Python), or the
	// directory above vllm's bin directory when Python could not be run.
	Prefix string
	// Versions are the installed versions of the stack's packages.
	Versions neuron.Versions
	// Via says how the versions were read: "python" (importlib.metadata)
	// or "pip" (pip show).
	Via string
	// Problems say what could not be read, one line each.
	Problems []string
}

// envProbeTimeout bounds each program an environment probe runs.
const envProbeTimeout = 30 * time.Second

// probeOutputLimit bounds what a probe reads from a program.
const probeOutputLimit = 1 << 20

// versionScript prints the stack's package versions and sys.prefix as JSON.
// importlib.metadata normalises distribution names, so "vllm-neuron" finds
// the plugin (setup.py name="vllm-neuron", vllm-project/vllm-neuron 0.2.0).
const versionScript = `import json, sys
from importlib import metadata
v = {}
for d in ("` + neuron.DistVLLM + `", "` + neuron.DistPlugin + `", "` + neuron.DistNxDI + `", "` + neuron.DistCompiler + `"):
    try:
        v[d] = metadata.version(d)
    except Exception:
        v[d] = ""
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "versions": v}))
`

// ProbeEnv finds command (normally "vllm") on PATH and reads the versions
// of vllm, vllm-neuron, NxDI and the Neuron compiler from the Python
// environment it runs in: with that environment's Python (importlib), else
// with the pip beside it (pip show). It never fails: what it cannot learn
// is in Problems.
func ProbeEnv(ctx context.Context, command string) PyEnv {
	var e PyEnv
	path, err := exec.LookPath(command)
	if err != nil {
		e.Problems = append(e.Problems, fmt.Sprintf("%q is not in PATH: activate vLLM's virtualenv (e.g. source %s/bin/activate)", command, neuron.Default().Venv))
		return e
	}
	e.VLLM = path
	bin := filepath.Dir(path)
	e.Prefix = filepath.Dir(bin)
	e.Interpreter = interpreterOf(path)
	if e.Interpreter != "" {
		out, err := runProbe(ctx, e.Interpreter, "-c", versionScript)
		if err == nil {
			var r struct {
				Prefix   string            `json:"prefix"`
				Versions map[string]string `json:"versions"`
			}
			if err = json.Unmarshal(lastLine(out), &r); err == nil {
				e.Prefix, e.Via = r.Prefix, "python"
				e.Versions = versionsOf(r.Versions)
				return e
			}
		}
		e.Problems = append(e.Problems, fmt.Sprintf("%s could not report the package versions: %v", e.Interpreter, err))
	}
	pip := filepath.Join(bin, "pip")
	if _, err := os.Stat(pip); err != nil {
		e.Problems = append(e.Problems, fmt.Sprintf("no Python and no pip beside %s: cannot read the package versions", path))
		return e
	}
	out, err := runProbe(ctx, pip, "show", neuron.DistVLLM, neuron.DistPlugin, neuron.DistNxDI, neuron.DistCompiler)
	// pip show exits 1 when one of the packages is missing but still
	// prints the others.
	if v := parsePipShow(out); len(v) > 0 {
		e.Versions, e.Via = versionsOf(v), "pip"
		return e
	}
	e.Problems = append(e.Problems, fmt.Sprintf("%s show found none of the stack's packages (%v)", pip, err))
	return e
}

// interpreterOf returns the Python that runs the script at path: its #!
// interpreter when that is a Python (with "/usr/bin/env python3" looked up
// on PATH), else python3 or python in the same directory; "" when none.
func interpreterOf(path string) string {
	if f, err := os.Open(path); err == nil {
		line, _ := bufio.NewReader(io.LimitReader(f, 512)).ReadString('\n')
		f.Close()
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#!"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 1 && filepath.Base(fields[0]) == "env" {
				fields = fields[1:]
				if p, err := exec.LookPath(fields[0]); err == nil {
					fields[0] = p
				}
			}
			if len(fields) > 0 && strings.HasPrefix(filepath.Base(fields[0]), "python") {
				return fields[0]
			}
		}
	}
	for _, name := range []string{"python3", "python"} {
		p := filepath.Join(filepath.Dir(path), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// runProbe runs a program with a timeout and returns its stdout (bounded).
func runProbe(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, envProbeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: probeOutputLimit}
	cmd.Stderr = &limitedWriter{w: &errb, n: 4096}
	err := cmd.Run()
	if err != nil && errb.Len() > 0 {
		err = fmt.Errorf("%w: %s", err, clip(strings.TrimSpace(errb.String()), 200))
	}
	return out.Bytes(), err
}

// limitedWriter keeps the first n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// lastLine returns the last non-empty line of out (a program may print
// warnings before its answer).
func lastLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return lines[len(lines)-1]
}

// parsePipShow reads `pip show` output: "Name: x" / "Version: y" blocks
// separated by "---". It returns version by distribution name.
func parsePipShow(out []byte) map[string]string {
	v := map[string]string{}
	name := ""
	for _, line := range strings.Split(string(out), "\n") {
		k, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Name":
			name = strings.TrimSpace(val)
		case "Version":
			if name != "" {
				v[name] = strings.TrimSpace(val)
			}
		}
	}
	return v
}

// versionsOf picks the stack's packages out of a name → version map
// (names compared as pip normalises them: case, "-", "_" and ".").
func versionsOf(m map[string]string) neuron.Versions {
	norm := func(s string) string {
		return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(s))
	}
	get := func(dist string) string {
		for k, v := range m {
			if norm(k) == norm(dist) {
				return v
			}
		}
		return ""
	}
	return neuron.Versions{VLLM: get(neuron.DistVLLM), Plugin: get(neuron.DistPlugin), NxDI: get(neuron.DistNxDI), Compiler: get(neuron.DistCompiler)}
}

// ActiveEnv returns the active Python environment: $VIRTUAL_ENV, else the
// directory above the bin directory of python3 (or python) on PATH; ""
// when there is none.
func ActiveEnv() string {
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		return filepath.Clean(v)
	}
	for _, name := range []string{"python3", "python"} {
		if p, err := exec.LookPath(name); err == nil {
			return filepath.Dir(filepath.Dir(p))
		}
	}
	return ""
}

// DetectStack probes the environment of command (ProbeEnv) and matches the
// versions to a supported stack (neuron.Match). ok is false when no stack
// matches; notes say where the versions differ from the stack's.
func DetectStack(ctx context.Context, command string) (st *neuron.Stack, env PyEnv, notes []string, ok bool) {
	env = ProbeEnv(ctx, command)
	if env.Versions.Empty() {
		return nil, env, nil, false
	}
	st, notes, ok = neuron.Match(env.Versions)
	return st, env, notes, ok
}
