package subject

import (
	"context"
	"errors"
)

// Error is a failure to obtain a subject token from a Source: a missing or
// unreadable file, an unset variable, a failing command, an expired JWT
// (which also matches *ExpiredError). Frontends find it with errors.As to
// tell "fix the platform token" apart from IdP and network failures.
type Error struct {
	// Source describes the source, e.g. "kubernetes_sa /var/run/…/token".
	Source string
	// Err is what went wrong; its message already names the source.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Read returns src's current token; any failure is an *Error. It is what
// grants call on every acquisition.
func Read(ctx context.Context, src Source) (string, error) {
	tok, err := src.SubjectToken(ctx)
	if err != nil {
		if se := new(Error); errors.As(err, &se) {
			return "", err
		}
		return "", &Error{Source: src.String(), Err: err}
	}
	if tok == "" {
		return "", &Error{Source: src.String(), Err: sourceError(src, "%w", ErrNoToken)}
	}
	return tok, nil
}
