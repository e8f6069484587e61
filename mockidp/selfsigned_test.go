package mockidp_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/fedtoken/fedtoken/mockidp"
)

// TestJWTBearerSelfSigned: a client with a registered key signs its own
// jwt-bearer assertion (iss = sub = client_id; the service-account-key
// pattern) and gets a token of its own, with zitadel's client as the
// caller.
func TestJWTBearerSelfSigned(t *testing.T) {
	ext := newExtIssuer(t, false)
	cfg := baseConfig(ext)
	key, other := testKeys()[7], testKeys()[6]
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuers[0].Clients = append(cfg.Issuers[0].Clients,
		mockidp.ClientConfig{ID: "svc", JWKS: pub, Scopes: []string{"llm"}, Audiences: []string{"https://llm.example"}},
		mockidp.ClientConfig{ID: "svc-cc-only", JWKS: pub, Grants: []string{"client_credentials"}})
	idp := start(t, cfg)
	prod := idp.IssuerURL("prod")
	tokenURL := prod + "/token"
	sign := func(t *testing.T, k jose.JSONWebKey, claims map[string]any) string {
		t.Helper()
		base := map[string]any{"iss": "svc", "sub": "svc", "aud": tokenURL, "jti": time.Now().String(),
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
		for k, v := range claims {
			base[k] = v
		}
		return signJWT(t, k, base)
	}
	bearer := func(assertion string) url.Values {
		return url.Values{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {assertion}, "scope": {"llm"}}
	}

	t.Run("zitadel's signed assertion", func(t *testing.T) {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertion, err := client.SignedJWTProfileAssertion("svc", []string{prod}, time.Minute, signer)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := client.JWTProfileExchange(context.Background(), oidc.NewJWTProfileGrantRequest(assertion, "llm"), caller{tokenURL})
		if err != nil {
			t.Fatalf("JWTProfileExchange: %v", err)
		}
		c := verifyIssued(t, prod, tok.AccessToken)
		if c["sub"] != "svc" || c["client_id"] != "svc" || c["scope"] != "llm" {
			t.Fatalf("claims = %v", c)
		}
		if last := lastRecord(t, idp, "token"); last.ClientID != "svc" || last.Outcome != "ok" {
			t.Fatalf("log = %+v", last)
		}
		// The same assertion again is a replay.
		r := postForm(t, tokenURL, bearer(assertion), "")
		wantOAuthError(t, r, 400, "invalid_grant", "was already used")
	})
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		desc   string
	}{
		{"another key", bearer(sign(t, jose.JSONWebKey{Key: other, KeyID: "k1"}, nil)), 400, "invalid_grant", "signature does not verify"},
		{"sub is not the client", bearer(sign(t, jose.JSONWebKey{Key: key, KeyID: "k1"}, map[string]any{"sub": "someone"})), 400, "invalid_grant", `iss "svc" and sub "someone" must both be the client_id`},
		{"audience elsewhere", bearer(sign(t, jose.JSONWebKey{Key: key, KeyID: "k1"}, map[string]any{"aud": "https://elsewhere"})), 400, "invalid_grant", "must contain the issuer"},
		{"expired", bearer(sign(t, jose.JSONWebKey{Key: key, KeyID: "k1"}, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), 400, "invalid_grant", "expired"},
		{"grant not allowed", bearer(sign(t, jose.JSONWebKey{Key: key, KeyID: "k1"}, map[string]any{"iss": "svc-cc-only", "sub": "svc-cc-only"})), 400, "unauthorized_client", "may not use grant jwt_bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOAuthError(t, postForm(t, tokenURL, tt.form, ""), tt.status, tt.code, tt.desc)
		})
	}
	t.Run("another authenticated client", func(t *testing.T) {
		form := bearer(sign(t, jose.JSONWebKey{Key: key, KeyID: "k1"}, nil))
		wantOAuthError(t, postForm(t, tokenURL, form, "confidential:s3cret"), 400, "invalid_grant", `signed by client "svc", but the request authenticated client "confidential"`)
	})
}
