package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"loadgen/loadgen"
	"loadgen/server/sim"
)

// Exit codes of loadgen.
const (
	exitOK          = 0
	exitFailed      = 1   // a configuration failed, or a runtime error
	exitUsage       = 2   // bad flags, bad profile, bad input
	exitInterrupted = 130 // stopped by SIGINT/SIGTERM
)

// usageError marks an error caused by the user's input (flags, profile,
// dataset): loadgen exits 2 and starts nothing.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef builds a usageError.
func usagef(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// asUsage wraps err as a usageError (nil stays nil).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// asUsageIf makes an error that wraps loadgen.ErrBadInput (the input was
// refused before anything started) a usage error; others pass unchanged.
func asUsageIf(err error) error {
	if errors.Is(err, loadgen.ErrBadInput) {
		return asUsage(err)
	}
	return err
}

// silentError carries an exit code for an outcome that was already reported
// to the user (e.g. "2 of 4 configurations failed" after the summary).
type silentError struct{ code int }

func (e silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode prints err in one line and maps it to an exit status. Only
// loadgen's own error types choose a status: usageError (every flag,
// argument and command-name error, urfave's included, is wrapped as one
// by the app) exits 2, silentError its code, the simulator's *sim.ExitError
// vLLM's status; an interrupt 130; anything else 1. An exit code that a
// library error happens to carry is not trusted.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitOK
	}
	var silent silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	fmt.Fprintf(stderr, "loadgen: %v\n", err)
	var ue usageError
	var se *sim.ExitError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &se):
		return se.Code
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitFailed
}
