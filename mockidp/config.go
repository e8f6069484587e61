package mockidp

import (
	"encoding/json"
	"fmt"
	"time"
)

// Config is the whole configuration of a [Server], as read from a YAML or
// JSON file by [LoadConfig] and applied with [WithConfig]. Field names are
// the JSON/YAML keys; docs/mockidp.md is the reference with examples.
type Config struct {
	// Issuers are the OAuth issuers, each served under /<name>.
	Issuers []IssuerConfig `json:"issuers,omitempty"`
	// Cluster, when set, adds an issuer that plays a Kubernetes API server.
	Cluster *ClusterConfig `json:"cluster,omitempty"`
	// Faults are injected from the start; more can be added live.
	Faults []FaultRule `json:"faults,omitempty"`
	// Admin enables the admin API under /admin/. Serve it on loopback only.
	Admin bool `json:"admin,omitempty"`
	// Listen is the address the fedtoken-mockidp binary listens on
	// (default 127.0.0.1:0). New ignores it.
	Listen string `json:"listen,omitempty"`
	// BaseURL is the URL the binary's issuers are published under
	// (default http://<listen address>). New ignores it.
	BaseURL string `json:"baseURL,omitempty"`
}

// IssuerConfig configures one issuer, served at <base URL>/<Name>.
type IssuerConfig struct {
	// Name is the issuer's path segment: letters, digits, '-', '_' and '.'.
	Name string `json:"name"`
	// SigningKeyFile is a PEM RSA private key (PKCS#1 or PKCS#8). Without
	// it a 2048-bit key is generated at start.
	SigningKeyFile string `json:"signingKeyFile,omitempty"`
	// AccessTokenLifetime is the lifetime of issued access tokens
	// (default 5m, minimum 1s).
	AccessTokenLifetime Duration `json:"accessTokenLifetime,omitempty"`
	// IDTokenLifetime is the lifetime of ID tokens (default: the access
	// token lifetime).
	IDTokenLifetime Duration `json:"idTokenLifetime,omitempty"`
	// RefreshTokenLifetime is the lifetime of refresh tokens (default 24h).
	RefreshTokenLifetime Duration `json:"refreshTokenLifetime,omitempty"`
	// KeepRefreshToken makes refresh responses omit refresh_token: the old
	// one stays valid (no rotation). By default every refresh rotates.
	KeepRefreshToken bool `json:"keepRefreshToken,omitempty"`
	// SubjectTokenError is the error code for a rejected token-exchange
	// subject or actor token: "invalid_grant" (default) or
	// "invalid_request" (the code RFC 8693 section 2.2.2 names).
	SubjectTokenError string `json:"subjectTokenError,omitempty"`
	// Login configures the authorize endpoint and device approval.
	Login LoginConfig `json:"login,omitempty"`
	// Device configures the device authorization grant.
	Device DeviceConfig `json:"device,omitempty"`
	// Users can sign in on the login and device pages.
	Users []UserConfig `json:"users,omitempty"`
	// Clients are the registered OAuth clients.
	Clients []ClientConfig `json:"clients,omitempty"`
	// Trust lists the external issuers whose tokens are accepted as
	// jwt-bearer assertions, token-exchange subject/actor tokens and
	// federated client assertions.
	Trust []TrustConfig `json:"trust,omitempty"`
}

// LoginConfig configures interactive sign-in.
type LoginConfig struct {
	// AutoApprove signs User in without a page: /authorize redirects with a
	// code at once and device codes are approved (after
	// DeviceConfig.PendingPolls polls).
	AutoApprove bool `json:"autoApprove,omitempty"`
	// User is the username auto-approval signs in (default: the first user,
	// or "user" when none is configured).
	User string `json:"user,omitempty"`
}

// DeviceConfig configures the device authorization grant (RFC 8628).
type DeviceConfig struct {
	// Interval is the minimum polling interval announced to clients
	// (default 5s). Polling faster gets slow_down and adds 5s. Zero
	// disables the check (use "0s" explicitly).
	Interval *Duration `json:"interval,omitempty"`
	// Lifetime is how long a device code is valid (default 10m); then
	// polls get expired_token.
	Lifetime Duration `json:"lifetime,omitempty"`
	// PendingPolls is how many polls answer authorization_pending before
	// auto-approval takes effect (only with LoginConfig.AutoApprove).
	PendingPolls int `json:"pendingPolls,omitempty"`
}

// UserConfig is a user who can sign in.
type UserConfig struct {
	// Username is what the login page asks for.
	Username string `json:"username"`
	// Password is what the login page checks.
	Password Secret `json:"password,omitempty"`
	// Subject is the sub claim (default: Username).
	Subject string `json:"subject,omitempty"`
	// Claims are added to ID tokens and userinfo (e.g. email, name).
	Claims map[string]any `json:"claims,omitempty"`
}

// ClientConfig registers an OAuth client.
type ClientConfig struct {
	// ID is the client_id.
	ID string `json:"id"`
	// Secret enables client_secret_basic and client_secret_post.
	Secret Secret `json:"secret,omitempty"`
	// Public marks a public client: it sends only client_id.
	Public bool `json:"public,omitempty"`
	// AuthMethods restricts how the client may authenticate:
	// client_secret_basic, client_secret_post, private_key_jwt, federated.
	// Default: every method its credentials allow.
	AuthMethods []string `json:"authMethods,omitempty"`
	// PublicKeyFile is a PEM public key or a JWKS file that verifies the
	// client's private_key_jwt assertions (iss = sub = client_id).
	PublicKeyFile string `json:"publicKeyFile,omitempty"`
	// JWKS is an inline JWKS for private_key_jwt (alternative to
	// PublicKeyFile).
	JWKS json.RawMessage `json:"jwks,omitempty"`
	// Federated binds the client to an external identity: a
	// client_assertion from the named trust policy whose sub is Subject
	// authenticates this client.
	Federated *FederatedConfig `json:"federated,omitempty"`
	// Grants the client may use: authorization_code, refresh_token,
	// client_credentials, jwt_bearer, token_exchange, device_code (or their
	// URNs). Default: all that fit its credentials.
	Grants []string `json:"grants,omitempty"`
	// RedirectURIs for the authorization code grant. For public clients a
	// loopback URI matches any port (RFC 8252).
	RedirectURIs []string `json:"redirectURIs,omitempty"`
	// Scopes the client may be granted; empty allows any scope.
	Scopes []string `json:"scopes,omitempty"`
	// Audiences is the aud of access tokens issued to this client when the
	// request names none (default: the client ID).
	Audiences []string `json:"audiences,omitempty"`
	// AccessTokenLifetime overrides the issuer's for this client.
	AccessTokenLifetime Duration `json:"accessTokenLifetime,omitempty"`
}

// FederatedConfig binds a client to an identity from a trust policy.
type FederatedConfig struct {
	// Trust names the issuer's trust policy (or the cluster) the
	// client_assertion must come from.
	Trust string `json:"trust"`
	// Subject is the sub the client_assertion must carry, e.g.
	// system:serviceaccount:ai-jobs:runner.
	Subject string `json:"subject"`
}

// TrustConfig is a trust policy for an external issuer.
type TrustConfig struct {
	// Name identifies the policy in logs, the admin API and
	// FederatedConfig.Trust (default: Issuer, or LocalIssuer).
	Name string `json:"name,omitempty"`
	// Issuer is the exact iss of accepted tokens.
	Issuer string `json:"issuer,omitempty"`
	// LocalIssuer names an issuer of this server (or the cluster) whose
	// keys are used in process; it sets Issuer.
	LocalIssuer string `json:"localIssuer,omitempty"`
	// DiscoveryURL is fetched for jwks_uri; its issuer must equal Issuer.
	// Default, when no JWKSURL, JWKSFile or LocalIssuer is given:
	// Issuer + /.well-known/openid-configuration.
	DiscoveryURL string `json:"discoveryURL,omitempty"`
	// JWKSURL is fetched directly (no discovery).
	JWKSURL string `json:"jwksURL,omitempty"`
	// JWKSFile is read once at start.
	JWKSFile string `json:"jwksFile,omitempty"`
	// CAFile is a PEM bundle that verifies the discovery and JWKS servers.
	CAFile string `json:"caFile,omitempty"`
	// Audiences are the allowed aud values (audience pinning): a token must
	// carry at least one. Default: this issuer's URL and token endpoint.
	Audiences []string `json:"audiences,omitempty"`
	// Subjects are the allowed sub values, exact or globs where '*' matches
	// any run of characters, e.g. system:serviceaccount:ai-jobs:*.
	// Empty allows any subject.
	Subjects []string `json:"subjects,omitempty"`
	// MaxTokenAge rejects tokens whose iat is older (0: unchecked).
	MaxTokenAge Duration `json:"maxTokenAge,omitempty"`
	// ClockSkew is the leeway for exp, nbf, iat and MaxTokenAge (default 0).
	ClockSkew Duration `json:"clockSkew,omitempty"`
}

// ClusterConfig makes the server also play a Kubernetes API server: an
// extra issuer signs service-account tokens and a kubelet writes them.
type ClusterConfig struct {
	// Name is the cluster issuer's path segment (default "cluster").
	Name string `json:"name,omitempty"`
	// SigningKeyFile is a PEM RSA private key; generated when empty.
	SigningKeyFile string `json:"signingKeyFile,omitempty"`
	// TokenLifetime is the default lifetime of service-account tokens
	// (default 10m).
	TokenLifetime Duration `json:"tokenLifetime,omitempty"`
	// RefreshFraction is when projected tokens are rewritten, as a fraction
	// of their lifetime (default 0.8, like the kubelet).
	RefreshFraction float64 `json:"refreshFraction,omitempty"`
	// TrustedBy lists issuers that trust the cluster automatically ("*":
	// all). Their policy is named after the cluster, pins the audience to
	// the trusting issuer, and allows TrustSubjects.
	TrustedBy []string `json:"trustedBy,omitempty"`
	// TrustSubjects are the subjects the automatic trust allows (default:
	// any).
	TrustSubjects []string `json:"trustSubjects,omitempty"`
	// Tokens are projected service-account tokens written to disk.
	Tokens []ProjectedTokenConfig `json:"tokens,omitempty"`
}

// ProjectedTokenConfig is one projected service-account token file.
// Tokens that share a Dir are written together, as one projected volume.
type ProjectedTokenConfig struct {
	// Dir is the volume directory (the pod's mountPath).
	Dir string `json:"dir"`
	// Path is the file name inside Dir (default "token").
	Path string `json:"path,omitempty"`
	// Namespace of the service account (default "default").
	Namespace string `json:"namespace,omitempty"`
	// ServiceAccount name (default "default").
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Audiences are literal aud values.
	Audiences []string `json:"audiences,omitempty"`
	// AudienceIssuers names issuers of this server whose URLs are added to
	// aud (their URLs are not known before the server listens).
	AudienceIssuers []string `json:"audienceIssuers,omitempty"`
	// Lifetime overrides ClusterConfig.TokenLifetime.
	Lifetime Duration `json:"lifetime,omitempty"`
	// Pod is the pod name in the kubernetes.io claim (default
	// "<serviceAccount>-pod").
	Pod string `json:"pod,omitempty"`
}

// Duration is a time.Duration read from JSON/YAML as a Go duration string
// ("90s", "5m") or a number of seconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: want e.g. \"90s\" or \"5m\"", s)
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: want a string like \"90s\" or a number of seconds", b)
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

// Secret is a configured credential (client secret, password). It prints,
// logs and marshals as "[REDACTED]".
type Secret string

const redacted = "[REDACTED]"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer with a placeholder.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer with a placeholder.
func (s Secret) GoString() string { return fmt.Sprintf("mockidp.Secret(%q)", s.String()) }

// Format makes every fmt verb print the placeholder.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON writes the placeholder.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the secret value.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("secret: want a string")
	}
	*s = Secret(v)
	return nil
}
