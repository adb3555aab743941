package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"loadgen/loadgen/bounded"
)

// MaxProfileBytes bounds a profile file. A real profile is a few KiB; the
// bound keeps a profile read from /dev/zero, a FIFO or a wrong file from
// growing memory without end. It is fixed (see README.md, "Limits").
const MaxProfileBytes = 1 << 20

var profileLimit = bounded.Limit{What: "the profile", Max: MaxProfileBytes}

// Load reads, defaults and checks the profile at path. Every problem found
// (YAML syntax, unknown keys, wrong types, invalid values, and the
// pre-flight errors of every configuration) is returned at once, joined with
// errors.Join; each is an *Error rendered "file:line: key: message".
// Relative paths in the profile are resolved against its directory.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	defer f.Close()
	data, err := readProfile(f, path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// readProfile reads a profile whole, at most MaxProfileBytes of it.
func readProfile(r io.Reader, path string) ([]byte, error) {
	data, err := profileLimit.ReadAll(r)
	switch {
	case errors.Is(err, bounded.ErrTooLarge):
		return nil, &Error{File: path, Msg: err.Error() + ": is it the right file?"}
	case err != nil:
		return nil, fmt.Errorf("read profile: %w", err)
	}
	return data, nil
}

// Parse is Load for a profile already in memory; path is used in messages
// and to resolve relative paths (against its directory).
func Parse(data []byte, path string) (*Profile, error) {
	dir := "."
	if abs, err := filepath.Abs(path); err == nil {
		dir = filepath.Dir(abs)
	}
	return parse(data, path, nil, dir)
}

// loadFS reads the profile name from fsys; display is its Path.
func loadFS(fsys fs.FS, name, display string) (*Profile, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	defer f.Close()
	data, err := readProfile(f, display)
	if err != nil {
		return nil, err
	}
	return parse(data, display, fsys, path.Dir(name))
}

func parse(data []byte, file string, fsys fs.FS, dir string) (*Profile, error) {
	if len(data) > MaxProfileBytes {
		return nil, &Error{File: file, Msg: profileLimit.Err().Error() + ": is it the right file?"}
	}
	pr := newProblems(file)
	root, err := document(data, file)
	if err != nil {
		return nil, err
	}
	p := &Profile{Path: file, prob: pr, fsys: fsys, dir: dir}
	d := &decoder{p: pr}
	d.decode(root, "", reflect.ValueOf(p).Elem())
	if d.tooBig {
		return nil, pr.err()
	}
	// Go on after decoding errors, so that every problem is reported at
	// once; checks skip the values that could not be decoded.
	p.defaults(file)
	p.validate()
	if len(pr.errs) > 0 {
		return nil, pr.err()
	}
	// Pre-flight: expand every configuration with default options, so that
	// configuration errors are reported by Load too, before anything runs.
	// The environment is not read here (server.api_key_env): Load must not
	// depend on it.
	if _, err := p.expand(ExpandOptions{}, false); err != nil {
		return nil, err
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into its single YAML document's root node.
func document(data []byte, file string) (root *yaml.Node, err error) {
	// yaml.v3 is third-party code: keep a parser panic on hostile input
	// from escaping as a crash of the whole tool.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{File: file, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the profile is empty"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "only one YAML document is allowed (remove the ---)"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "the profile is empty"}
	}
	root = doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: fmt.Sprintf("want a mapping of keys (name:, model:, …), got %s", describe(root))}
	}
	return root, nil
}

// yamlError turns a yaml.v3 syntax error into an *Error with its line.
func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// resolve makes a relative path absolute against the profile's directory
// (or, for a profile in an fs.FS, a path inside that FS).
func (p *Profile) resolve(name string) string {
	if p.fsys != nil {
		return path.Join(p.dir, name)
	}
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(p.dir, name)
}

// Open opens the dataset for reading, from disk or, for a shipped profile,
// from the binary. The caller closes it.
func (w Workload) Open() (io.ReadCloser, error) {
	if w.Dataset == "" {
		return nil, errors.New("open dataset: the workload has no dataset")
	}
	if w.fsys != nil {
		f, err := w.fsys.Open(w.name)
		if err != nil {
			return nil, fmt.Errorf("open dataset %s: %w", w.Dataset, err)
		}
		return f, nil
	}
	f, err := os.Open(w.Dataset)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	return f, nil
}
