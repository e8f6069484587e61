package grant

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedtoken/fedtoken/core/jwt"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// hintError adds advice to an IdP rejection whose usual cause is known.
// The wrapped *oauth.Error stays reachable with errors.As / errors.Is.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() + "; hint: " + e.hint }
func (e *hintError) Unwrap() error { return e.err }

// Hint returns the advice attached to err by a grant, or "".
func Hint(err error) string {
	var h *hintError
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

// withHint wraps err with a hint when its *oauth.Error has a known cause.
// presented is the platform JWT the request carried (assertion,
// subject_token or federated client_assertion), if any: when the IdP
// rejected it, the hint shows its iss, sub and aud — the claims an IdP's
// trust policy checks — so a wrong audience is visible at once. The token
// itself never appears.
func withHint(grant string, auth oauth.ClientAuth, presented string, err error) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return err
	}
	h := hintFor(grant, auth.Effective(), oe)
	if h != "" && rejectsIdentity(oe) {
		if c := describePresented(presented); c != "" {
			h += "; the presented token has " + c
		}
	}
	if h != "" {
		return &hintError{err: err, hint: h}
	}
	return err
}

// rejectsIdentity reports whether e is the IdP refusing the presented
// identity (as opposed to the request's shape).
func rejectsIdentity(e *oauth.Error) bool {
	switch e.Code {
	case oauth.ErrInvalidGrant.Code, oauth.ErrInvalidClient.Code, oauth.ErrAccessDenied.Code, oauth.ErrUnauthorizedClient.Code:
		return true
	}
	return false
}

// describePresented summarises the trust-relevant claims of a JWT, or ""
// when tok is not one.
func describePresented(tok string) string {
	if tok == "" {
		return ""
	}
	_, c, err := jwt.Decode(tok)
	if err != nil {
		return ""
	}
	aud := "[" + strings.Join(c.Audience, " ") + "]"
	return fmt.Sprintf("iss=%q sub=%q aud=%s", c.Issuer, c.Subject, aud)
}

func hintFor(grant string, method oauth.AuthMethod, e *oauth.Error) string {
	desc := strings.ToLower(e.Description)
	switch e.Code {
	case oauth.ErrRequestNotSupported.Code:
		switch {
		case strings.Contains(desc, "subject_token_type"):
			return "set subjectTokenType to " + TokenTypeIDToken + " (Dex accepts only id_token and access_token subject tokens)"
		case strings.Contains(desc, "requested_token_type"):
			return "set requestedTokenType to " + TokenTypeAccessToken + " or " + TokenTypeIDToken
		}
	case oauth.ErrInvalidRequest.Code:
		if strings.Contains(desc, "connector") {
			return "set extraParams connector_id to the id of a Dex connector of type oidc whose issuer is the subject token's iss"
		}
	case oauth.ErrUnsupportedGrantType.Code:
		return "the IdP does not offer the " + grant + " grant (Dex v2.45 has neither jwt_bearer nor client_credentials); enable it or choose another authFlow"
	case oauth.ErrUnauthorizedClient.Code:
		if method == oauth.AuthNone {
			return "no client authentication was sent and the IdP wants the client to authenticate for the " + grant + " grant: " + secretlessFix
		}
		return "the client may not use the " + grant + " grant; enable it on the client at the IdP"
	case oauth.ErrInvalidClient.Code:
		return invalidClientHint(method)
	case oauth.ErrInvalidGrant.Code:
		if method == oauth.AuthNone && strings.Contains(desc, "public client not allowed") {
			return "Keycloak allows the JWT Authorization Grant only to a client that authenticates, and none was sent: " + secretlessFix
		}
		return invalidGrantHint(grant, desc)
	case oauth.ErrAccessDenied.Code:
		if grant == nameTokenExchange {
			return "the IdP refused the identity in the subject token; Dex's oidc connector needs the claim named by userNameKey (Kubernetes tokens have no \"name\": set userNameKey: sub)"
		}
	}
	return ""
}

// secretlessFix is the way to authenticate a client with no secret: the
// platform token as a federated client assertion (docs/idp/keycloak.md,
// "Secretless jwt_bearer").
const secretlessFix = "to stay secretless, set clientAuth: {\"method\": \"federated\"} on the provider so the platform token also authenticates the client, and make the client \"Signed JWT - Federated\" at Keycloak (trusting the token's iss and sub); or give the client a secret (clientSecretFile)"

func invalidClientHint(method oauth.AuthMethod) string {
	switch method {
	case oauth.AuthFederated:
		return "the IdP did not accept the platform token as client credentials: check that the IdP trusts its issuer, that its aud is the one the IdP expects (Keycloak: exactly the realm issuer), that its sub is the subject bound to the client (Keycloak: jwt.credential.sub), and that no client_id other than sub is sent (Keycloak: set clientAuth.omitClientId)"
	case oauth.AuthPrivateKeyJWT:
		return "the IdP did not accept the signed client assertion: check the key registered for the client (and its kid) and the audience the IdP expects"
	case oauth.AuthNone:
		return "no client authentication was sent and the IdP requires it for this client: " + secretlessFix
	}
	return "check clientId and clientSecret, and whether the IdP expects client_secret_basic or client_secret_post (clientAuth.method)"
}

func invalidGrantHint(grant, desc string) string {
	switch grant {
	case nameRefresh:
		return "the refresh token has expired or was revoked; sign in again"
	case nameJWTBearer:
		if strings.Contains(desc, "user not found") {
			return "the IdP trusts the assertion's issuer but no user is linked to its subject; link the user to the identity provider (Keycloak federated identity)"
		}
	}
	f, _ := LookupFlow(grant)
	return f.RejectedHint
}
