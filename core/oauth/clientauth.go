package oauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
)

// AuthMethod is how a client authenticates to the token endpoint.
type AuthMethod string

// Client authentication methods.
const (
	// AuthAuto picks client_secret_basic when a client secret is set and
	// none otherwise. private_key_jwt and federated are never guessed:
	// choose them explicitly.
	AuthAuto AuthMethod = ""
	// AuthClientSecretBasic sends HTTP Basic credentials (RFC 6749 §2.3.1).
	AuthClientSecretBasic AuthMethod = "client_secret_basic"
	// AuthClientSecretPost sends client_id and client_secret in the form.
	AuthClientSecretPost AuthMethod = "client_secret_post"
	// AuthNone sends only client_id (public clients).
	AuthNone AuthMethod = "none"
	// AuthPrivateKeyJWT sends a client_assertion signed with the client's
	// own key (RFC 7523 §2.2, OpenID Connect Core §9).
	AuthPrivateKeyJWT AuthMethod = "private_key_jwt"
	// AuthFederated sends the platform's JWT (Kubernetes ServiceAccount,
	// CI OIDC token) as client_assertion: Keycloak's federated-jwt and
	// Azure-style workload identity.
	AuthFederated AuthMethod = "federated"
)

// ClientAssertionTypeJWTBearer is the client_assertion_type for a JWT
// client assertion (RFC 7523 §2.2).
const ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is the validity of a private_key_jwt assertion.
const assertionLifetime = 60 * time.Second

// ClientAuth says how a request authenticates the client.
type ClientAuth struct {
	// Method; AuthAuto when empty.
	Method AuthMethod
	// ClientID is the OAuth client id.
	ClientID string
	// ClientSecret for client_secret_basic and client_secret_post.
	ClientSecret Secret
	// ClientSecretFunc, when set, supplies the client secret instead of
	// ClientSecret. It is called once per Client.Token or Client.PostForm
	// call, so a secret read from a mounted file follows its rotation.
	ClientSecretFunc func() (Secret, error)
	// PrivateKey signs private_key_jwt assertions (RSA, ECDSA or Ed25519).
	PrivateKey crypto.Signer
	// KeyID is the "kid" header of private_key_jwt assertions (optional).
	KeyID string
	// Audience is the "aud" claim of private_key_jwt assertions; empty
	// means the token endpoint URL. Some IdPs (zitadel) want the issuer.
	Audience string
	// Assertion returns the platform JWT for federated authentication. It
	// is called once per Client.Token or Client.PostForm call: retries of
	// that call reuse the value.
	Assertion func(ctx context.Context) (string, error)
	// OmitClientID leaves client_id out of private_key_jwt and federated
	// requests (Keycloak requires client_id to equal the assertion's sub,
	// or to be absent).
	OmitClientID bool
}

// Effective returns the method a request will use: Method, or for
// AuthAuto client_secret_basic when a secret is set and none otherwise.
func (a ClientAuth) Effective() AuthMethod {
	if a.Method != AuthAuto {
		return a.Method
	}
	if a.ClientSecret != "" || a.ClientSecretFunc != nil {
		return AuthClientSecretBasic
	}
	return AuthNone
}

// Validate reports a missing setting for the effective method, naming the
// configuration field to set.
func (a ClientAuth) Validate() error {
	m := a.Effective()
	switch m {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if a.ClientID == "" {
			return fmt.Errorf("oauth: client auth %s: clientId is empty", m)
		}
		if a.ClientSecret == "" && a.ClientSecretFunc == nil {
			return fmt.Errorf("oauth: client auth %s: clientSecret is empty", m)
		}
	case AuthNone:
	case AuthPrivateKeyJWT:
		if a.ClientID == "" {
			return fmt.Errorf("oauth: client auth %s: clientId is empty", m)
		}
		if a.PrivateKey == nil {
			return fmt.Errorf("oauth: client auth %s: no private key (set clientAuth.privateKeyFile)", m)
		}
	case AuthFederated:
		if a.Assertion == nil {
			return fmt.Errorf("oauth: client auth %s: no assertion source (set subjectTokenSource)", m)
		}
	default:
		return fmt.Errorf("oauth: client auth method %q is not one of client_secret_basic, client_secret_post, none, private_key_jwt, federated", string(m))
	}
	return nil
}

// preparedAuth is a ClientAuth whose federated assertion has been read.
type preparedAuth struct {
	ClientAuth
	method    AuthMethod
	assertion Secret
}

// prepare validates a and reads the federated assertion once.
func (a ClientAuth) prepare(ctx context.Context) (preparedAuth, error) {
	if err := a.Validate(); err != nil {
		return preparedAuth{}, err
	}
	p := preparedAuth{ClientAuth: a, method: a.Effective()}
	if a.ClientSecretFunc != nil && (p.method == AuthClientSecretBasic || p.method == AuthClientSecretPost) {
		s, err := a.ClientSecretFunc()
		if err != nil {
			return preparedAuth{}, fmt.Errorf("oauth: client auth %s: %w", p.method, err)
		}
		if s == "" {
			return preparedAuth{}, fmt.Errorf("oauth: client auth %s: the client secret is empty", p.method)
		}
		p.ClientSecret = s
	}
	if p.method == AuthFederated {
		s, err := a.Assertion(ctx)
		if err != nil {
			return preparedAuth{}, fmt.Errorf("oauth: client auth federated: read assertion: %w", err)
		}
		if s == "" {
			return preparedAuth{}, errors.New("oauth: client auth federated: the assertion source returned an empty token")
		}
		p.assertion = Secret(s)
	}
	return p, nil
}

// apply adds the client credentials to one request. private_key_jwt signs
// a fresh assertion (new jti) every time, so retries are not replays.
func (p preparedAuth) apply(form url.Values, h http.Header, endpoint string, now time.Time) error {
	switch p.method {
	case AuthClientSecretBasic:
		// RFC 6749 §2.3.1: form-encode id and secret before Basic encoding.
		cred := url.QueryEscape(p.ClientID) + ":" + url.QueryEscape(p.ClientSecret.Reveal())
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	case AuthClientSecretPost:
		form.Set("client_id", p.ClientID)
		form.Set("client_secret", p.ClientSecret.Reveal())
	case AuthNone:
		if p.ClientID != "" {
			form.Set("client_id", p.ClientID)
		}
	case AuthPrivateKeyJWT:
		a, err := p.sign(endpoint, now)
		if err != nil {
			return err
		}
		p.setAssertion(form, a)
	case AuthFederated:
		p.setAssertion(form, p.assertion.Reveal())
	}
	return nil
}

func (p preparedAuth) setAssertion(form url.Values, assertion string) {
	if p.ClientID != "" && !p.OmitClientID {
		form.Set("client_id", p.ClientID)
	}
	form.Set("client_assertion_type", ClientAssertionTypeJWTBearer)
	form.Set("client_assertion", assertion)
}

// sign builds a private_key_jwt assertion: iss = sub = client id, aud =
// the token endpoint (or Audience), a random jti, valid for 60 seconds.
func (p preparedAuth) sign(endpoint string, now time.Time) (string, error) {
	aud := p.Audience
	if aud == "" {
		aud = endpoint
	}
	claims := map[string]any{
		"iss": p.ClientID,
		"sub": p.ClientID,
		"aud": aud,
		"jti": rand.Text(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	}
	s, err := jwt.Sign(claims, p.PrivateKey, p.KeyID)
	if err != nil {
		return "", fmt.Errorf("oauth: client auth private_key_jwt: %w", err)
	}
	return s, nil
}
