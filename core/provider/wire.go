package provider

import (
	"crypto"
	"fmt"
	"net/http"
	"net/url"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// wired is what New builds from a config.Provider.
type wired struct {
	subject subject.Source
	actor   subject.Source // token exchange only
	grant   oauth.TokenSource
	login   func(login.UI) oauth.TokenSource // interactive flows only
}

// wire maps the configuration onto the grant that serves p.AuthFlow. All
// grant logic lives in the grant and login packages; this only translates.
func wire(p config.Provider, hc *http.Client, o options) (wired, error) {
	var w wired
	client := &oauth.Client{HTTPClient: hc}
	if o.retry != nil {
		client.Retry = *o.retry
	}
	disc := o.discovery
	if disc == nil {
		disc = &discovery.Client{HTTPClient: hc}
	}
	ep := grant.Endpoint{Issuer: p.Issuer, TokenURL: p.TokenEndpoint, Discovery: disc, AllowInsecureHTTP: p.AllowInsecureHTTP}

	if p.SubjectTokenSource != nil {
		src, err := newSubject(p.SubjectTokenSource, hc)
		if err != nil {
			return w, fmt.Errorf("subjectTokenSource: %w", err)
		}
		w.subject = src
	}
	auth, err := clientAuth(p, w.subject)
	if err != nil {
		return w, err
	}
	params := url.Values{}
	for k, v := range p.ExtraParams {
		params.Set(k, v)
	}

	flow := p.AuthFlow.Info()
	if flow.Subject && w.subject == nil {
		return w, fmt.Errorf("authFlow %s needs a subjectTokenSource", p.AuthFlow)
	}
	switch p.AuthFlow {
	case config.FlowJWTBearer:
		w.grant = &grant.JWTBearer{Endpoint: ep, Client: client, Auth: auth, Assertion: w.subject,
			Scopes: p.Scopes, Params: params}
	case config.FlowTokenExchange:
		te := &grant.TokenExchange{Endpoint: ep, Client: client, Auth: auth, Subject: w.subject,
			SubjectTokenType:   p.TokenExchange.SubjectTokenType,
			ActorTokenType:     p.TokenExchange.ActorTokenType,
			RequestedTokenType: p.TokenExchange.RequestedTokenType,
			Audience:           p.TokenExchange.Audience, Resource: p.TokenExchange.Resource,
			Scopes: p.Scopes, Params: params}
		if p.ActorTokenSource != nil {
			actor, err := newSubject(p.ActorTokenSource, hc)
			if err != nil {
				return w, fmt.Errorf("actorTokenSource: %w", err)
			}
			te.Actor = actor
			w.actor = actor
		}
		w.grant = te
	case config.FlowJWTBearerKey:
		path := p.Assertion.PrivateKeyFile
		key := func() (crypto.Signer, error) {
			k, err := loadPrivateKey(path)
			if err != nil {
				return nil, fmt.Errorf("assertion.privateKeyFile: %w", err)
			}
			// Sign once so that a key no JWS algorithm fits (an RSA key
			// under 2048 bits) is reported with its file.
			if _, err := jwt.Sign(map[string]any{}, k, ""); err != nil {
				return nil, fmt.Errorf("assertion.privateKeyFile: %s: %w", path, err)
			}
			return k, nil
		}
		if _, err := key(); err != nil { // read now so a bad file fails at start-up
			return w, err
		}
		w.grant = &grant.JWTBearerKey{Endpoint: ep, Client: client, Auth: auth, ClientID: p.ClientID, Key: key,
			KeyID: p.Assertion.KeyID, Audience: p.Assertion.Audience, Scopes: p.Scopes, Params: params}
	case config.FlowClientCredentials:
		w.grant = &grant.ClientCredentials{Endpoint: ep, Client: client, Auth: auth, Scopes: p.Scopes, Params: params}
	default:
		if !flow.Interactive {
			return w, fmt.Errorf("authFlow %q is not supported", p.AuthFlow)
		}
		w.grant = &interactive{id: p.ID, flow: p.AuthFlow,
			refresh: &grant.Refresh{Endpoint: ep, Client: client, Auth: auth, Scopes: p.Scopes}}
		w.login = newLogin(p, client, auth, disc, params, o)
	}
	return w, nil
}
