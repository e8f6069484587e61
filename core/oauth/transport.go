package oauth

import (
	"errors"
	"net/http"
)

// Transport is an http.RoundTripper that sets "Authorization: <type>
// <token>" (AuthorizationValue) on every request from Source, replacing
// any Authorization the caller set. Unlike oauth2.Transport it passes the
// request's context to the token source, so a cancelled request never
// waits on the IdP.
type Transport struct {
	// Source supplies the tokens. Required.
	Source TokenSource
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if t.Source == nil {
		closeBody()
		return nil, errors.New("oauth: Transport has no Source")
	}
	tok, err := t.Source.TokenContext(req.Context())
	if err != nil {
		closeBody()
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", AuthorizationValue(tok))
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}
