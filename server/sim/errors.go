package sim

import (
	"errors"
	"fmt"

	"loadgen/server/neuron"
)

// Exit codes Main's errors carry.
const (
	ExitUsage   = 2 // argparse error, as `vllm serve` exits
	ExitFailure = 1 // startup failure or engine death
)

// ExitError is an error that carries the process exit status the command
// should end with (2 for argparse errors, 1 for startup failures and engine
// death). The CLI's main exits with ExitCode() after printing nothing more:
// Main has already written vLLM's own error lines.
type ExitError struct {
	Code int
	Err  error
}

// Error returns the underlying error's message.
func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the exit status.
func (e *ExitError) ExitCode() int { return e.Code }

func usageError(msg string) error {
	return &ExitError{Code: ExitUsage, Err: errors.New(msg)}
}

func failure(format string, a ...any) error {
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf(format, a...)}
}

// EngineDeadMessage is vLLM's EngineDeadError text, the message of every
// request that fails because the engine died.
const EngineDeadMessage = neuron.MsgEngineDead

// ErrEngineDead is returned by Server.Err after the simulated engine died.
var ErrEngineDead = errors.New("simulated engine core died")
