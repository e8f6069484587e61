// Package exitcode maps the errors of a fedtoken command to its
// documented exit status, in one place.
//
// Commands return errors; only app.Main turns one into a status with Of.
// A command classifies an error itself only where the cause is known at
// the call site and cannot be read from the error (a bad flag, a config
// file that cannot be found, the status of a child process); everything
// else is recognised here with errors.Is and errors.As.
package exitcode

import (
	"errors"
	"fmt"
)

// The documented exit statuses (docs/cli.md, "Exit status").
const (
	// OK: the command did what was asked.
	OK = 0
	// Failure: any error not classified below.
	Failure = 1
	// Usage: a bad flag, argument or command name.
	Usage = 2
	// Config: the configuration file is missing, unreadable or invalid,
	// or names no such provider.
	Config = 3
	// Subject: the subject token (the workload's identity JWT, or the
	// token given to inspect) is missing, unreadable, not a JWT or expired.
	Subject = 4
	// Rejected: the IdP answered with an OAuth error (invalid_grant,
	// invalid_client, unsupported_grant_type, access_denied, …).
	Rejected = 5
	// Network: the IdP could not be reached or kept failing (connection,
	// DNS, TLS, timeout, HTTP 5xx/429 after retries).
	Network = 6
	// LoginRequired: an interactive login is needed but this run cannot
	// prompt (no TTY, or CI=true), or the login was not completed.
	LoginRequired = 7
	// Interrupted: SIGINT or SIGTERM arrived and the command did not
	// finish within the grace period (128 + SIGTERM, as a shell reports).
	Interrupted = 143
)

// Error carries an exit status chosen by the command that returned it.
type Error struct {
	// Code is the exit status.
	Code int
	// Err is the cause; nil for a bare status (see Silent).
	Err error
	// Silent means the cause was already reported (e.g. a child process
	// exited non-zero, or doctor printed its failed checks): Main prints
	// nothing more.
	Silent bool
}

// Error returns the cause's message.
func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns err classified with code; nil stays nil.
func New(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Usagef returns a usage error (exit status 2).
func Usagef(format string, args ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, args...)}
}

// Silent returns a bare exit status whose cause was already reported.
func Silent(code int) error { return &Error{Code: code, Silent: true} }

// IsSilent reports whether err's message was already shown to the user.
func IsSilent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Silent
}
