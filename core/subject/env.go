package subject

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Env reads a token from an environment variable, e.g. a GitLab CI
// `id_tokens` entry.
//
// It does not cache: every call looks the variable up again. A process's
// environment does not change, though, so a long-running process whose
// token expires needs another source.
type Env struct {
	// Name is the variable, e.g. "WORKLOAD_ID_TOKEN".
	Name string
	// Getenv looks the variable up; nil means os.Getenv.
	Getenv func(string) string
	// Now is the clock of the expiry check; nil means time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew: the token counts as expired once
	// Now() is past exp + Leeway. Zero means none.
	Leeway time.Duration
}

// SubjectToken looks the variable up.
func (s Env) SubjectToken(ctx context.Context) (string, error) {
	return subjectToken(ctx, s)
}

// String returns "env <NAME>".
func (s Env) String() string { return TypeEnv + " " + s.Name }

func (s Env) read(context.Context) (string, error) {
	if s.Name == "" {
		return "", fmt.Errorf("subject: env: no variable name configured")
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	v := getenv(s.Name)
	if len(v) > MaxTokenSize {
		return "", sourceError(s, "value larger than %d KiB, the limit for a subject token", MaxTokenSize>>10)
	}
	return cleanToken(s, v, "the variable is unset or empty (in GitLab CI, declare it under the job's id_tokens)")
}

func (s Env) expiry() expiryCheck {
	return expiryCheck{source: TypeEnv, path: s.Name, now: s.Now, leeway: s.Leeway}
}
