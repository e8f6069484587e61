package subject

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Source provides a subject token. Implementations must be safe for
// concurrent use and must not store a context.
type Source interface {
	// SubjectToken returns the current token, read afresh.
	SubjectToken(ctx context.Context) (string, error)
	// String describes the source for logs and errors, e.g.
	// "kubernetes_sa /var/run/secrets/tokens/oauth2/token". It never
	// contains the token.
	String() string
}

// Source type names, as used in configuration and in ExpiredError.Source.
const (
	TypeKubernetesSA  = "kubernetes_sa"
	TypeFile          = "file"
	TypeEnv           = "env"
	TypeGitHubActions = "github_actions"
	TypeExec          = "exec"
	TypeStatic        = "static"
)

// MaxTokenSize is the largest subject token a source accepts, in bytes,
// before trimming. Platform JWTs are a few KiB; anything bigger is the
// wrong file or a runaway command.
const MaxTokenSize = 64 << 10

// ErrNoToken is matched (errors.Is) by the error a source returns when it
// finds no token: an empty file, an unset variable, a command printing
// nothing, a CI runner without an ID-token endpoint.
var ErrNoToken = errors.New("no subject token")

// sourceError prefixes an error with the source description:
// "subject: file /path: …".
func sourceError(src Source, format string, args ...any) error {
	return fmt.Errorf("subject: %s: "+format, append([]any{src}, args...)...)
}

// cleanToken trims what surrounds a token (whitespace, a UTF-8 byte
// order mark) and rejects what cannot be one token: nothing at all, or
// a line break, tab or other control character inside it.
func cleanToken(src Source, raw string, what string) (string, error) {
	tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "\ufeff"))
	if tok == "" {
		return "", sourceError(src, "%s: %w", what, ErrNoToken)
	}
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		return "", sourceError(src, `token starts with "Bearer "; %s must hold the bare token`, holder(src))
	}
	for i, r := range tok {
		switch {
		case r == '\n' || r == '\r':
			return "", sourceError(src, "token spans several lines (line break at byte %d); %s must hold exactly one token and nothing else", i, holder(src))
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError:
			return "", sourceError(src, "token has whitespace, a control character or invalid UTF-8 at byte %d; %s must hold exactly one token", i, holder(src))
		}
	}
	return tok, nil
}

// holder names what the user must fix when a token is malformed.
func holder(src Source) string {
	switch src.(type) {
	case KubernetesSA, *KubernetesSA, File, *File:
		return "the file"
	case Env, *Env:
		return "the variable"
	case Exec, *Exec:
		return "the command's stdout"
	case GitHubActions, *GitHubActions:
		return "the response"
	default:
		return "the source"
	}
}
