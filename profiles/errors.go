package profiles

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in a profile: where it is (file, line, key
// path such as "load[2].rate") and what is wrong with it, including what
// to do about it. Load and Parse join every Error they find with
// errors.Join, so callers can errors.As each one.
type Error struct {
	File string // the profile's path as given to Load or Parse
	Line int    // 1-based line of the key; 0 when not known
	Key  string // path of the key; "" for the whole document
	Msg  string
}

// Error renders "file:line: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// problems collects errors and warnings with the positions recorded while
// decoding, so that checks run after decoding can still name file:line.
type problems struct {
	file  string
	lines map[string]int  // key path → line
	bad   map[string]bool // key paths whose value could not be decoded
	errs  []error
	warns []string
}

func newProblems(file string) *problems {
	return &problems{file: file, lines: map[string]int{}, bad: map[string]bool{}}
}

// line returns the line of path, or of its nearest recorded ancestor.
func (p *problems) line(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// has reports whether the key at path was written in the profile.
func (p *problems) has(path string) bool {
	_, ok := p.lines[path]
	return ok
}

func (p *problems) newError(path, format string, args ...any) *Error {
	return &Error{File: p.file, Line: p.line(path), Key: path, Msg: fmt.Sprintf(format, args...)}
}

// errorf records an error about the key at path, unless the value there
// (or above it) was already reported as undecodable: a later check would
// only repeat that error in other words.
func (p *problems) errorf(path, format string, args ...any) {
	for q := path; ; q = parentPath(q) {
		if p.bad[q] {
			return
		}
		if q == "" {
			break
		}
	}
	p.errs = append(p.errs, p.newError(path, format, args...))
}

// errorAt records an error at an explicit line (for keys that were not
// recorded, such as an unknown key).
func (p *problems) errorAt(line int, path, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: path, Msg: fmt.Sprintf(format, args...)})
}

// warnf records a warning, rendered like an error.
func (p *problems) warnf(path, format string, args ...any) {
	p.warns = append(p.warns, p.newError(path, format, args...).Error())
}

// err joins the errors in the order of their lines (stable, so that
// errors without a line come first and ties keep the order found).
func (p *problems) err() error {
	slices.SortStableFunc(p.errs, func(a, b error) int {
		return cmp.Compare(errLine(a), errLine(b))
	})
	return errors.Join(p.errs...)
}

func errLine(err error) int {
	if e, ok := err.(*Error); ok {
		return e.Line
	}
	return 0
}

// parentPath strips the last ".key" or "[i]" of a key path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// joinPath appends a key to a path ("" appends nothing).
func joinPath(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return key
	}
	return path + "." + key
}

// indexPath appends a sequence index to a path.
func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
