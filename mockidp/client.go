package mockidp

import (
	"fmt"
	"os"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is a registered client.
type client struct {
	cfg     ClientConfig
	grants  []oidc.GrantType
	methods []string // allowed authentication methods
	keys    []jose.JSONWebKey
}

func newClient(cfg ClientConfig) (*client, error) {
	cl := &client{cfg: cfg}
	switch {
	case cfg.PublicKeyFile != "":
		data, err := os.ReadFile(cfg.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("client %q: publicKeyFile: %w", cfg.ID, err)
		}
		if cl.keys, err = parsePublicKeys(data); err != nil {
			return nil, fmt.Errorf("client %q: publicKeyFile %s: %w", cfg.ID, cfg.PublicKeyFile, err)
		}
	case len(cfg.JWKS) > 0:
		var err error
		if cl.keys, err = parsePublicKeys(cfg.JWKS); err != nil {
			return nil, fmt.Errorf("client %q: jwks: %w", cfg.ID, err)
		}
	}
	cl.methods = cfg.AuthMethods
	if len(cl.methods) == 0 {
		if cfg.Secret != "" {
			cl.methods = append(cl.methods, AuthClientSecretBasic, AuthClientSecretPost)
		}
		if len(cl.keys) > 0 {
			cl.methods = append(cl.methods, AuthPrivateKeyJWT)
		}
		if cfg.Federated != nil {
			cl.methods = append(cl.methods, AuthFederated)
		}
	}
	if cfg.Public {
		cl.methods = []string{AuthNone}
	}
	if len(cfg.Grants) == 0 {
		for urn := range grantShortNames {
			if cfg.Public && urn == GrantClientCredentials {
				continue
			}
			cl.grants = append(cl.grants, oidc.GrantType(urn))
		}
		slices.Sort(cl.grants)
	}
	for _, g := range cfg.Grants {
		urn, _ := grantURN(g)
		cl.grants = append(cl.grants, oidc.GrantType(urn))
	}
	return cl, nil
}

func (c *client) allows(grant string) bool { return slices.Contains(c.grants, oidc.GrantType(grant)) }

func (c *client) allowsMethod(m string) bool { return slices.Contains(c.methods, m) }

// audiences is the default aud of tokens issued to the client.
func (c *client) audiences() []string {
	if len(c.cfg.Audiences) > 0 {
		return slices.Clone(c.cfg.Audiences)
	}
	return []string{c.cfg.ID}
}

// grantScopes keeps the requested scopes the client may have; an empty
// Scopes list allows any.
func (c *client) grantScopes(requested []string) ([]string, error) {
	if c == nil || len(c.cfg.Scopes) == 0 {
		return requested, nil
	}
	for _, s := range requested {
		if !slices.Contains(c.cfg.Scopes, s) {
			return nil, oidc.ErrInvalidScope().WithDescription("%s", fmt.Sprintf("scope %q is not allowed for client %q (allowed: %v)", s, c.cfg.ID, c.cfg.Scopes))
		}
	}
	return requested, nil
}

// authedClient is a client as authenticated on one request; it implements
// op.Client.
type authedClient struct {
	*client
	method string // how it authenticated: an Auth* constant
}

var _ op.Client = (*authedClient)(nil)

// GetID implements op.Client.
func (c *authedClient) GetID() string { return c.cfg.ID }

// RedirectURIs implements op.Client.
func (c *authedClient) RedirectURIs() []string { return c.cfg.RedirectURIs }

// PostLogoutRedirectURIs implements op.Client.
func (c *authedClient) PostLogoutRedirectURIs() []string { return nil }

// ApplicationType implements op.Client: public clients are native apps
// (loopback redirects on any port), confidential ones web apps.
func (c *authedClient) ApplicationType() op.ApplicationType {
	if c.cfg.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

// AuthMethod implements op.Client.
func (c *authedClient) AuthMethod() oidc.AuthMethod {
	switch c.method {
	case AuthClientSecretBasic:
		return oidc.AuthMethodBasic
	case AuthClientSecretPost:
		return oidc.AuthMethodPost
	case AuthPrivateKeyJWT, AuthFederated:
		return oidc.AuthMethodPrivateKeyJWT
	}
	return oidc.AuthMethodNone
}

// ResponseTypes implements op.Client.
func (c *authedClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes implements op.Client.
func (c *authedClient) GrantTypes() []oidc.GrantType { return c.grants }

// LoginURL implements op.Client.
func (c *authedClient) LoginURL(id string) string { return pathLogin + "?authRequest=" + id }

// AccessTokenType implements op.Client.
func (c *authedClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime implements op.Client.
func (c *authedClient) IDTokenLifetime() time.Duration { return 0 }

// DevMode implements op.Client.
func (c *authedClient) DevMode() bool { return false }

// RestrictAdditionalIdTokenScopes implements op.Client.
func (c *authedClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes implements op.Client.
func (c *authedClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed implements op.Client.
func (c *authedClient) IsScopeAllowed(scope string) bool {
	return len(c.cfg.Scopes) == 0 || slices.Contains(c.cfg.Scopes, scope)
}

// IDTokenUserinfoClaimsAssertion implements op.Client.
func (c *authedClient) IDTokenUserinfoClaimsAssertion() bool { return false }

// ClockSkew implements op.Client.
func (c *authedClient) ClockSkew() time.Duration { return 0 }
