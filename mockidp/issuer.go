package mockidp

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// issuer is one OAuth issuer; it implements op.Server.
type issuer struct {
	op.UnimplementedServer

	srv  *Server
	name string
	url  string
	key  *signingKey
	cfg  IssuerConfig

	mu       sync.Mutex
	clients  map[string]*client
	trust    []*trustPolicy
	users    map[string]*UserConfig
	codes    map[string]*authCode     // by code hash
	logins   map[string]*pendingLogin // by auth request id
	devices  map[string]*deviceGrant  // by device code hash
	userCode map[string]string        // user code → device code hash
	refresh  map[string]*refreshGrant // by refresh token hash
	revoked  map[string]time.Time     // access token jti → exp
	usedJTI  map[string]time.Time     // private_key_jwt assertion jti → exp
}

// Defaults of IssuerConfig.
const (
	defaultAccessTokenLifetime  = 5 * time.Minute
	defaultRefreshTokenLifetime = 24 * time.Hour
	defaultDeviceInterval       = 5 * time.Second
	defaultDeviceLifetime       = 10 * time.Minute
	authCodeLifetime            = time.Minute
	defaultUsername             = "user"
)

func (s *Server) newIssuer(cfg IssuerConfig, gen func() (*rsa.PrivateKey, error)) (*issuer, error) {
	key, err := s.issuerKey(cfg.Name, cfg.SigningKeyFile, gen)
	if err != nil {
		return nil, err
	}
	is := &issuer{
		srv:      s,
		name:     cfg.Name,
		url:      s.baseURL + "/" + cfg.Name,
		key:      key,
		cfg:      cfg,
		clients:  map[string]*client{},
		users:    map[string]*UserConfig{},
		codes:    map[string]*authCode{},
		logins:   map[string]*pendingLogin{},
		devices:  map[string]*deviceGrant{},
		userCode: map[string]string{},
		refresh:  map[string]*refreshGrant{},
		revoked:  map[string]time.Time{},
		usedJTI:  map[string]time.Time{},
	}
	for i := range cfg.Users {
		u := cfg.Users[i]
		is.users[u.Username] = &u
	}
	for _, cc := range cfg.Clients {
		cl, err := newClient(cc)
		if err != nil {
			return nil, fmt.Errorf("mockidp: issuer %q: %w", cfg.Name, err)
		}
		is.clients[cc.ID] = cl
	}
	return is, nil
}

func (s *Server) issuerKey(name, file string, gen func() (*rsa.PrivateKey, error)) (*signingKey, error) {
	var priv *rsa.PrivateKey
	var err error
	if file != "" {
		priv, err = loadSigningKey(file)
	} else {
		priv, err = gen()
	}
	if err != nil {
		return nil, fmt.Errorf("mockidp: issuer %q: %w", name, err)
	}
	return newSigningKey(priv)
}

func (is *issuer) now() time.Time { return is.srv.now() }

func (is *issuer) accessLifetime(cl *client) time.Duration {
	if cl != nil && cl.cfg.AccessTokenLifetime > 0 {
		return cl.cfg.AccessTokenLifetime.D()
	}
	if is.cfg.AccessTokenLifetime > 0 {
		return is.cfg.AccessTokenLifetime.D()
	}
	return defaultAccessTokenLifetime
}

func (is *issuer) idLifetime(cl *client) time.Duration {
	if is.cfg.IDTokenLifetime > 0 {
		return is.cfg.IDTokenLifetime.D()
	}
	return is.accessLifetime(cl)
}

func (is *issuer) refreshLifetime() time.Duration {
	if is.cfg.RefreshTokenLifetime > 0 {
		return is.cfg.RefreshTokenLifetime.D()
	}
	return defaultRefreshTokenLifetime
}

func (is *issuer) deviceInterval() time.Duration {
	if is.cfg.Device.Interval != nil {
		return is.cfg.Device.Interval.D()
	}
	return defaultDeviceInterval
}

func (is *issuer) deviceLifetime() time.Duration {
	if is.cfg.Device.Lifetime > 0 {
		return is.cfg.Device.Lifetime.D()
	}
	return defaultDeviceLifetime
}

// autoUser is the user auto-approval signs in.
func (is *issuer) autoUser() *UserConfig {
	name := is.cfg.Login.User
	if name == "" && len(is.cfg.Users) > 0 {
		name = is.cfg.Users[0].Username
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	if u, ok := is.users[name]; ok {
		return u
	}
	if name == "" {
		name = defaultUsername
	}
	return &UserConfig{Username: name}
}

func (u *UserConfig) subject() string {
	if u.Subject != "" {
		return u.Subject
	}
	return u.Username
}

func (is *issuer) lookupClient(id string) *client {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.clients[id]
}

func (is *issuer) policies() []*trustPolicy {
	is.mu.Lock()
	defer is.mu.Unlock()
	return append([]*trustPolicy(nil), is.trust...)
}

// Health implements op.Server.
func (is *issuer) Health(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// Ready implements op.Server.
func (is *issuer) Ready(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// Discovery implements op.Server; the metadata handler in front of the
// issuers normally answers first.
func (is *issuer) Discovery(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(is.discovery()), nil
}

// Keys implements op.Server.
func (is *issuer) Keys(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(is.key.jwks()), nil
}

func (is *issuer) discovery() *oidc.DiscoveryConfiguration {
	authMethods := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT, oidc.AuthMethodNone}
	return &oidc.DiscoveryConfiguration{
		Issuer:                      is.url,
		AuthorizationEndpoint:       is.url + pathAuthorize,
		TokenEndpoint:               is.url + pathToken,
		IntrospectionEndpoint:       is.url + pathIntrospect,
		UserinfoEndpoint:            is.url + pathUserinfo,
		RevocationEndpoint:          is.url + pathRevoke,
		DeviceAuthorizationEndpoint: is.url + pathDeviceAuth,
		JwksURI:                     is.url + pathKeys,
		ScopesSupported:             []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		ResponseTypesSupported:      []string{string(oidc.ResponseTypeCode)},
		ResponseModesSupported:      []string{"query"},
		GrantTypesSupported: []oidc.GrantType{
			oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials,
			oidc.GrantTypeBearer, oidc.GrantTypeTokenExchange, oidc.GrantTypeDeviceCode,
		},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           []string{"RS256"},
		TokenEndpointAuthMethodsSupported:          authMethods,
		TokenEndpointAuthSigningAlgValuesSupported: allowedAlgs,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		IntrospectionEndpointAuthMethodsSupported:  authMethods[:3],
		CodeChallengeMethodsSupported:              []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
		ClaimsSupported:                            []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "act", "azp", "nonce", "name", "email"},
	}
}

// statusError wraps an OAuth error with an explicit HTTP status.
func statusError(e *oidc.Error, status int) error { return op.NewStatusError(e, status) }

// invalidClient is an invalid_client error (HTTP 401, RFC 6749 section 5.2).
func invalidClient(format string, args ...any) error {
	return statusError(oidc.ErrInvalidClient().WithDescription("%s", fmt.Sprintf(format, args...)), http.StatusUnauthorized)
}

func invalidGrant(format string, args ...any) error {
	return oidc.ErrInvalidGrant().WithDescription("%s", fmt.Sprintf(format, args...))
}

func invalidRequest(format string, args ...any) error {
	return oidc.ErrInvalidRequest().WithDescription("%s", fmt.Sprintf(format, args...))
}

func unauthorizedClient(format string, args ...any) error {
	return oidc.ErrUnauthorizedClient().WithDescription("%s", fmt.Sprintf(format, args...))
}

// temporarilyUnavailable answers a failure to fetch an external issuer's
// keys: the request may succeed later.
func temporarilyUnavailable(desc string) error {
	e := &oidc.Error{ErrorType: "temporarily_unavailable", Description: desc}
	return statusError(e, http.StatusServiceUnavailable)
}
