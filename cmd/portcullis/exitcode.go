package main

import (
	"errors"
)

// Exit codes, one table for every command.
const (
	exitOK         = 0
	exitError      = 1
	exitPending    = 2
	exitViolation  = 3
	exitNotInForce = 4
)

const exitCodeHelp = `Exit codes:
  0  done, or already in sync
  1  could not run, or invalid input (nothing written)
  2  changes pending (plan only; --detailed-exitcode, on by default)
  3  a route or live rule exposes an internal-only service
  4  finished, but the desired state is not fully in force: conflicts, a
     stale saved plan, a failed batch chunk, an unconfirmed or lost write,
     a file target not reloaded after revoke, a failed audit-log append
When several apply, the first of 3, 1, 4, 2, 0 wins.`

// outcome collects what a command found; exitCode turns it into one code.
type outcome struct {
	violation  bool
	notInForce bool
	pending    bool
}

// errViolation marks an error caused by a security violation.
var errViolation = errors.New("security violation")

// exitCode maps a command's outcome and error to the exit code, applying
// the precedence 3, 1, 4, 2, 0.
func exitCode(o outcome, err error) int {
	switch {
	case o.violation || errors.Is(err, errViolation):
		return exitViolation
	case err != nil:
		return exitError
	case o.notInForce:
		return exitNotInForce
	case o.pending:
		return exitPending
	}
	return exitOK
}
