package server

import (
	"errors"
	"strings"

	"loadgen/loadgen/schema"
)

// Error is a classified server failure: why it failed to start, was not
// ready in time, or died. Its message is "<class>: <reason>", followed by
// the last log lines when there are any, so that printing it tells the user
// what happened and what to do.
type Error struct {
	// Class is the failure class (never FailureNone).
	Class schema.FailureClass
	// Reason is the one line a user sees, without the class prefix.
	Reason string
	// LastLines are the last lines of the server's log, oldest first.
	LastLines []string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "<class>: <reason>" plus the last log lines, indented.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Class))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if len(e.LastLines) > 0 {
		b.WriteString("\nlast lines of the server log:")
		for _, l := range e.LastLines {
			b.WriteString("\n  ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the failure class carried by err (an *Error anywhere in
// its chain), or FailureNone when err carries none.
func ClassOf(err error) schema.FailureClass {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return schema.FailureNone
}

// errorTailLines is how many log lines an *Error carries.
const errorTailLines = 12
