package config

import (
	"time"

	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// Provider is one IdP + one client + one way to prove identity. Every
// default is already applied: Name, AuthFlow, PKCE, ClientAuth.OmitClientID,
// HTTPTimeout, TokenExpirySkew, the kubernetes_sa token path and, for
// token_exchange, TokenExchange.SubjectTokenType are never left empty.
//
// The JSON tags are the field names of the config files; marshalling a
// Provider (see [Provider.MarshalJSON]) gives its native form with secrets
// redacted.
type Provider struct {
	// ID is the provider id: the key of provider.<id> in opencode.json, the
	// "id" of a pluginConfig server, or the key under "providers".
	ID string `json:"id"`
	// Name is a display name; defaults to ID.
	Name string `json:"name,omitempty"`
	// BaseURL is the API the token is for (e.g. an OpenAI-compatible
	// gateway); optional. opencode.json: provider.<id>.options.baseURL.
	BaseURL string `json:"baseURL,omitempty"`

	// Issuer is the IdP issuer URL, used for discovery. Either Issuer or
	// TokenEndpoint is required.
	Issuer string `json:"issuer,omitempty"`
	// ClientID is the OAuth client id. Required.
	ClientID string `json:"clientId"`
	// ClientSecret is the client secret written inline in the file. Prefer
	// ClientSecretFile or ClientSecretEnv; read the effective secret with
	// [Provider.LoadClientSecret].
	ClientSecret oauth.Secret `json:"clientSecret,omitempty"`
	// ClientSecretFile names a file holding the client secret (fedtoken
	// extension), read on every LoadClientSecret so a rotated mounted
	// Kubernetes Secret is picked up.
	ClientSecretFile string `json:"clientSecretFile,omitempty"`
	// ClientSecretEnv names an environment variable holding the client
	// secret (fedtoken extension).
	ClientSecretEnv string `json:"clientSecretEnv,omitempty"`
	// Scopes are sent space-separated as "scope". opencode.json also allows
	// one string separated by spaces or commas.
	Scopes []string `json:"scopes,omitempty"`

	// AuthFlow is the grant; default FlowAuthorizationCode (upstream default).
	AuthFlow Flow `json:"authFlow"`
	// ClientAuth is how the client authenticates at the token endpoint.
	ClientAuth ClientAuth `json:"clientAuth,omitzero"`
	// SubjectTokenSource is where the platform JWT comes from: the assertion
	// of jwt_bearer, the subject_token of token_exchange, the
	// client_assertion of ClientAuth method federated.
	SubjectTokenSource *SubjectSource `json:"subjectTokenSource,omitempty"`
	// ActorTokenSource supplies the optional actor_token of token_exchange.
	ActorTokenSource *SubjectSource `json:"actorTokenSource,omitempty"`
	// TokenExchange holds the RFC 8693 parameters. Upstream
	// tokenExchangeAudience lands in TokenExchange.Audience.
	TokenExchange TokenExchange `json:"tokenExchange,omitzero"`
	// Assertion is the signing key of authFlow jwt_bearer_key (fedtoken
	// extension).
	Assertion Assertion `json:"assertion,omitzero"`
	// ExtraParams are added to every token request form, e.g. Dex's
	// connector_id. Parameters fedtoken sets itself are refused.
	ExtraParams map[string]string `json:"extraParams,omitempty"`

	// TokenEndpoint overrides the discovered token endpoint.
	TokenEndpoint string `json:"tokenEndpoint,omitempty"`
	// AuthorizationEndpoint overrides the discovered authorization endpoint.
	AuthorizationEndpoint string `json:"authorizationEndpoint,omitempty"`
	// DeviceAuthorizationEndpoint overrides the discovered device
	// authorization endpoint.
	DeviceAuthorizationEndpoint string `json:"deviceAuthorizationEndpoint,omitempty"`
	// JWKSURI is accepted for upstream compatibility; fedtoken verifies
	// nothing with it.
	JWKSURI string `json:"jwksUri,omitempty"`

	// PKCE enables PKCE (S256) on authorization_code and device_code;
	// never nil after parsing (default true).
	PKCE *bool `json:"pkce,omitempty"`
	// RedirectPort is the loopback port of the authorization_code callback;
	// 0 picks a free port.
	RedirectPort int `json:"redirectPort,omitempty"`
	// RedirectPath is the path of the loopback callback
	// http://127.0.0.1:<port><path> (fedtoken extension "redirectPath");
	// "" means the plugin's /oauth2/callback (login.DefaultCallbackPath).
	RedirectPath string `json:"redirectPath,omitempty"`
	// SyncInterval is how often the gateway's model list is fetched again
	// (upstream syncIntervalMinutes); 0 means DefaultSyncInterval (see
	// ModelSyncInterval).
	SyncInterval time.Duration `json:"-"`
	// NameOverrides maps a model id to the display name opencode shows,
	// instead of the normalised one (upstream nameOverrides).
	NameOverrides map[string]string `json:"nameOverrides,omitempty"`
	// ResponseAPI says the gateway speaks the OpenAI Responses API
	// (upstream responseApi): the sidecar proxy repairs its event streams
	// and the opencode provider uses @ai-sdk/openai.
	ResponseAPI bool `json:"responseApi,omitempty"`
	// CAFile is a PEM bundle trusted, in addition to the system roots, for
	// this provider's IdP.
	CAFile string `json:"caFile,omitempty"`
	// AllowInsecureHTTP permits http:// URLs to non-loopback hosts.
	AllowInsecureHTTP bool `json:"allowInsecureHTTP,omitempty"`

	// HTTPTimeout bounds each HTTP request to the IdP; default 15s.
	HTTPTimeout time.Duration `json:"-"`
	// TokenExpirySkew is how long before expiry a token counts as expired;
	// default 30s.
	TokenExpirySkew time.Duration `json:"-"`
}

// Flow is the OAuth grant a provider uses (upstream "authFlow").
type Flow string

// The flows, spelled as in the config files.
const (
	FlowAuthorizationCode Flow = "authorization_code"
	FlowDeviceCode        Flow = "device_code"
	FlowClientCredentials Flow = "client_credentials"
	FlowJWTBearer         Flow = "jwt_bearer"
	FlowTokenExchange     Flow = "token_exchange"
	FlowJWTBearerKey      Flow = "jwt_bearer_key"
)

// Interactive reports whether the flow needs a person (browser or device code).
func (f Flow) Interactive() bool { return f.Info().Interactive }

// Assertion is how authFlow jwt_bearer_key signs its RFC 7523 assertion:
// iss and sub are the clientId, and the IdP verifies the signature with
// the public key registered for the client.
type Assertion struct {
	// PrivateKeyFile is the PEM private key (RSA: RS256; ECDSA P-256:
	// ES256; also P-384, P-521, Ed25519), read on every token request so
	// a rotated mounted Secret is picked up.
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`
	// KeyID is the "kid" header: the id the IdP gave the registered key.
	KeyID string `json:"keyId,omitempty"`
	// Audience is the "aud" claim; default the token endpoint URL. Some
	// IdPs (Zitadel) want their issuer.
	Audience string `json:"audience,omitempty"`
}

// ClientAuth says how the client authenticates to the token endpoint.
type ClientAuth struct {
	// Method is one of the oauth.Auth* constants; oauth.AuthAuto ("")
	// means auto ("auto" in a file is stored as "").
	Method oauth.AuthMethod `json:"method,omitempty"`
	// PrivateKeyFile is the PEM private key (RSA, ECDSA or Ed25519) that
	// signs the private_key_jwt assertion.
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`
	// KeyID is the "kid" header of the private_key_jwt assertion.
	KeyID string `json:"keyId,omitempty"`
	// OmitClientID leaves client_id out of the request; never nil after
	// parsing: default true for method federated (Keycloak requires
	// client_id to equal the assertion's sub or be absent), false otherwise.
	OmitClientID *bool `json:"omitClientId,omitempty"`
}

// SubjectSource says where a platform JWT is read from. Which fields apply
// depends on Type.
type SubjectSource struct {
	// Type is one of the subject.Type* constants except subject.TypeStatic.
	Type string `json:"type"`
	// TokenPath is the kubernetes_sa token file; default
	// subject.DefaultKubernetesTokenPath.
	TokenPath string `json:"tokenPath,omitempty"`
	// Path is the file of type file.
	Path string `json:"path,omitempty"`
	// Env is the environment variable of type env (upstream key "var").
	Env string `json:"var,omitempty"`
	// Audience is the audience requested from GitHub Actions.
	Audience string `json:"audience,omitempty"`
	// Command is the program and arguments of type exec (no shell).
	Command []string `json:"command,omitempty"`
	// Timeout bounds the exec command; default subject.DefaultExecTimeout.
	Timeout time.Duration `json:"-"`
}

// String describes the source without any token, e.g.
// "kubernetes_sa /var/run/secrets/tokens/oauth2/token".
func (s *SubjectSource) String() string {
	if s == nil {
		return "<none>"
	}
	switch s.Type {
	case subject.TypeKubernetesSA:
		return s.Type + " " + s.TokenPath
	case subject.TypeFile:
		return s.Type + " " + s.Path
	case subject.TypeEnv:
		return s.Type + " $" + s.Env
	case subject.TypeGitHubActions:
		return s.Type + " audience=" + s.Audience
	case subject.TypeExec:
		if len(s.Command) > 0 {
			return s.Type + " " + s.Command[0]
		}
	}
	return s.Type
}

// TokenExchange holds the RFC 8693 request parameters.
type TokenExchange struct {
	// SubjectTokenType defaults to grant.TokenTypeJWT for token_exchange;
	// Dex needs grant.TokenTypeIDToken.
	SubjectTokenType string `json:"subjectTokenType,omitempty"`
	// ActorTokenType defaults to grant.TokenTypeJWT when an actor source is
	// set.
	ActorTokenType string `json:"actorTokenType,omitempty"`
	// RequestedTokenType is sent as requested_token_type when set.
	RequestedTokenType string `json:"requestedTokenType,omitempty"`
	// Audience values, each sent as an "audience" parameter.
	Audience []string `json:"audience,omitempty"`
	// Resource values (absolute URIs), each sent as a "resource" parameter.
	Resource []string `json:"resource,omitempty"`
}

// Defaults applied while parsing. The others are the runtime packages':
// the HTTP timeout is oauth.DefaultHTTPTimeout, the expiry skew
// cache.DefaultSkew, the kubernetes_sa token path
// subject.DefaultKubernetesTokenPath and the exec timeout
// subject.DefaultExecTimeout.
const (
	// DefaultSyncInterval is upstream's syncIntervalMinutes default.
	DefaultSyncInterval = 60 * time.Minute
)

// ModelSyncInterval is SyncInterval with its default applied.
func (p *Provider) ModelSyncInterval() time.Duration {
	if p.SyncInterval > 0 {
		return p.SyncInterval
	}
	return DefaultSyncInterval
}
