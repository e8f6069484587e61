package oauth

import (
	"context"

	"golang.org/x/oauth2"
)

// TokenSource is an oauth2.TokenSource that can also be bounded by a
// context. Token() is TokenContext(context.Background()).
//
// Implementations never store a context: every call takes its own.
type TokenSource interface {
	oauth2.TokenSource
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// Renewer is implemented by token sources that can renew a token they
// issued earlier, typically with its refresh token. Caches call Renew
// instead of TokenContext when they hold a previous token.
type Renewer interface {
	Renew(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (*oauth2.Token, error)

// Token calls f with context.Background().
func (f TokenSourceFunc) Token() (*oauth2.Token, error) { return f(context.Background()) }

// TokenContext calls f.
func (f TokenSourceFunc) TokenContext(ctx context.Context) (*oauth2.Token, error) { return f(ctx) }
