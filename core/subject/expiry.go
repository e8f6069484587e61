package subject

import (
	"context"
	"fmt"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
)

// ExpiredError is returned instead of a subject token that is a JWT
// whose "exp" has passed. Sending it would only earn an invalid_grant
// from the IdP; this error says where the token came from and what to
// check. Read it with errors.As.
type ExpiredError struct {
	// Source is the source type: "kubernetes_sa", "file", "env",
	// "github_actions" or "exec".
	Source string
	// Path is where the token was read: the file path, the variable name,
	// the token request URL (without query) or the command.
	Path string
	// ExpiredAt is the token's "exp".
	ExpiredAt time.Time
	// Now is the time of the check.
	Now time.Time
}

// Error names the path, the expiry time in RFC 3339 and how long ago it
// was, and for a projected ServiceAccount token the kubelet checks.
func (e *ExpiredError) Error() string {
	ago := e.Now.Sub(e.ExpiredAt).Round(time.Second)
	return fmt.Sprintf("subject: %s %s: token expired at %s (%s ago); %s",
		e.Source, e.Path, e.ExpiredAt.UTC().Format(time.RFC3339), ago, e.hint())
}

func (e *ExpiredError) hint() string {
	switch e.Source {
	case TypeKubernetesSA:
		return "the kubelet should have rotated it (it rewrites the file at 80% of the token's lifetime): " +
			"check the kubelet logs for TokenProjection errors and the expirationSeconds of the pod's serviceAccountToken projected volume"
	case TypeFile:
		return "whatever writes this file has stopped refreshing it"
	case TypeEnv:
		return "a variable is set once when the process starts: give a long-running process a source that is re-read (file, exec, github_actions)"
	case TypeGitHubActions:
		return "the token endpoint returned an expired token: check the runner's clock"
	case TypeExec:
		return "the command printed an expired token: check its cache and the machine's clock"
	default:
		return "fetch a fresh token"
	}
}

// expiryCheck refuses JWTs whose exp has passed; opaque tokens and JWTs
// without exp pass.
type expiryCheck struct {
	skip         bool // Static: the caller owns the token's lifetime
	source, path string
	now          func() time.Time
	leeway       time.Duration
}

func (c expiryCheck) check(tok string) error {
	if c.skip {
		return nil
	}
	_, claims, err := jwt.Decode(tok)
	if err != nil || claims.ExpiresAt.IsZero() {
		return nil // opaque or exp-less: the IdP decides
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	t := now()
	if claims.Expired(t, c.leeway) {
		return &ExpiredError{Source: c.source, Path: c.path, ExpiredAt: claims.ExpiresAt, Now: t}
	}
	return nil
}

// reader is implemented by this package's sources: read returns the
// cleaned token without the expiry check, so Inspect can show an
// expired token's claims.
type reader interface {
	Source
	read(ctx context.Context) (string, error)
	expiry() expiryCheck
}

// subjectToken is SubjectToken for every reader.
func subjectToken(ctx context.Context, r reader) (string, error) {
	tok, err := r.read(ctx)
	if err != nil {
		return "", err
	}
	if err := r.expiry().check(tok); err != nil {
		return "", err
	}
	return tok, nil
}
