package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// TokenSource is what the proxy needs from a token provider
// (core/provider.Provider satisfies it).
type TokenSource interface {
	// TokenContext returns a valid access token, cached or newly acquired.
	TokenContext(ctx context.Context) (*oauth2.Token, error)
	// Invalidate drops tok if it is still the current token, so that the
	// next TokenContext acquires a new one.
	Invalidate(tok *oauth2.Token)
}

// TokenError reports that no access token could be obtained for a request.
// Its message is the token source's, which never contains a secret.
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return "acquire access token: " + e.Err.Error() }

// Unwrap returns the token source's error.
func (e *TokenError) Unwrap() error { return e.Err }

// maxDrain bounds how much of a 401 body is read before retrying, so the
// connection can be reused without reading an unbounded body.
const maxDrain = 64 << 10

// Transport is an http.RoundTripper that sets "Authorization: <type>
// <token>" from Source on every request, replacing any Authorization
// header the caller set. The value is core's oauth.AuthorizationValue, as
// core's oauth.Transport sends it (an RFC 8693 token_type N_A goes as
// Bearer).
//
// When the upstream answers 401 and the request body can be replayed (no
// body, or GetBody set), Transport invalidates the token, acquires a new
// one and sends the request once more. A 401 is returned unchanged when
// the body cannot be replayed or the source hands back the same token.
type Transport struct {
	// Source provides the access token. Required.
	Source TokenSource
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// OnRetry, when set, is called before each retry after a 401.
	OnRetry func()

	// ownsRequests says every request comes from the Handler's reverse
	// proxy, which made it for this round trip alone (a clone of the
	// client's, with its own header map): send then sets the header on it
	// instead of cloning the request again.
	ownsRequests bool

	// auth is the Authorization value of the last token sent: every
	// request gets the same *oauth2.Token from the cache until it is
	// replaced, so the value is built once per token, not per request.
	auth atomic.Pointer[authValue]
}

type authValue struct {
	tok   *oauth2.Token
	value []string // the header's value slice, shared read-only
}

// authorization returns the Authorization header value slice for tok.
func (t *Transport) authorization(tok *oauth2.Token) []string {
	if a := t.auth.Load(); a != nil && a.tok == tok {
		return a.value
	}
	a := &authValue{tok: tok, value: []string{oauth.AuthorizationValue(tok)}}
	t.auth.Store(a)
	return a.value
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.Source.TokenContext(req.Context())
	if err != nil {
		closeBody(req)
		return nil, &TokenError{Err: err}
	}
	resp, err := t.send(req, req.Body, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable(req) {
		return resp, err
	}

	t.Source.Invalidate(tok)
	fresh, err := t.Source.TokenContext(req.Context())
	if err != nil || fresh.AccessToken == tok.AccessToken {
		// Nothing better to send: the client sees the upstream's 401.
		return resp, nil
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
	if t.OnRetry != nil {
		t.OnRetry()
	}
	return t.send(req, body, fresh)
}

func (t *Transport) send(req *http.Request, body io.ReadCloser, tok *oauth2.Token) (*http.Response, error) {
	var out *http.Request
	if t.ownsRequests {
		c := *req // the header map is ours: set the token in it
		out = &c
	} else {
		out = req.Clone(req.Context())
	}
	out.Body = body
	// The value slice is shared between requests: nothing after this
	// point appends to a request's Authorization values.
	out.Header["Authorization"] = t.authorization(tok)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(out)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", redactURL(req.URL), stripURLError(err))
	}
	return resp, nil
}

// stripURLError drops a *url.Error layer (its message repeats the full
// URL, query included) and keeps the cause.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// redactURL is u without userinfo, query or fragment, for messages.
func redactURL(u *url.URL) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return c.String()
}

// replayable reports whether the request body can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
