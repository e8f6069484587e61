package mockidp_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/fedtoken/fedtoken/mockidp"
)

// rawJWT builds an unsigned-looking token from a header and claims.
func rawJWT(t *testing.T, header, claims map[string]any, sig string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + sig
}

// TestVerificationRejections sends one token per failed check as a
// jwt-bearer assertion, a token-exchange subject token and a federated
// client assertion, and checks the error code, the description and the
// check recorded in the request log.
func TestVerificationRejections(t *testing.T) {
	ext := newExtIssuer(t, false)
	clock := newFakeClock()
	cfg := baseConfig(ext)
	cfg.Issuers[0].Trust[0].MaxTokenAge = mockidp.Duration(time.Hour)
	cfg.Issuers[0].Trust[0].ClockSkew = mockidp.Duration(30 * time.Second)
	idp := start(t, cfg, mockidp.WithClock(clock.Now))
	prod := idp.IssuerURL("prod")
	now := clock.Now()
	tok := func(claims map[string]any) string {
		base := map[string]any{"sub": saSub, "aud": prod}
		for k, v := range claims {
			base[k] = v
		}
		return ext.token(now, base)
	}
	otherKey := jose.JSONWebKey{Key: testKeys()[1], KeyID: "ext-a", Algorithm: "RS256"}
	unknownKid := jose.JSONWebKey{Key: testKeys()[1], KeyID: "not-published", Algorithm: "RS256"}
	validClaims := claimsOf(t, tok(nil))

	cases := []struct {
		name, token, check, detail string
	}{
		{"not a JWT", "abc", "format", "not a JWT: 1 segments, want 3"},
		{"claims not JSON", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.sig", "format", "not a JWT: claims are not a JSON object"},
		{"exp not a number", tok(map[string]any{"exp": "soon"}), "format", "exp claim is not a number"},
		{"unknown issuer", tok(map[string]any{"iss": "https://evil.example"}), "issuer", `unknown issuer "https://evil.example": no trust policy of issuer "prod" accepts it (trusted: [` + ext.URL + `])`},
		{"alg none", rawJWT(t, map[string]any{"alg": "none"}, validClaims, ""), "alg", `alg "none" is not allowed`},
		{"alg HS256", rawJWT(t, map[string]any{"alg": "HS256", "kid": "ext-a"}, validClaims, "c2ln"), "alg", `alg "HS256" is not allowed`},
		{"wrong key", signJWT(t, otherKey, validClaims), "signature", `signature does not verify with key "ext-a" from JWKS ` + ext.URL + "/openid/v1/jwks"},
		{"unknown kid", signJWT(t, unknownKid, validClaims), "keys", `no key with kid "not-published" in JWKS`},
		{"expired", tok(map[string]any{"iat": now.Add(-20 * time.Minute).Unix(), "exp": now.Add(-31 * time.Second).Unix()}), "exp",
			"token expired at 2026-11-26T11:59:29Z (now 2026-11-26T12:00:00Z, clock skew 30s)"},
		{"no exp", tok(map[string]any{"exp": nil}), "exp", "exp claim missing"},
		{"not yet valid", tok(map[string]any{"nbf": now.Add(time.Minute).Unix()}), "nbf", "token not valid before 2026-11-26T12:01:00Z"},
		{"issued in the future", tok(map[string]any{"iat": now.Add(time.Minute).Unix(), "nbf": nil}), "iat", "iat 2026-11-26T12:01:00Z is in the future"},
		{"too old", tok(map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(time.Hour).Unix()}), "max_age",
			"token issued at 2026-11-26T10:00:00Z is older than max token age 1h0m0s"},
		{"no iat with max age", tok(map[string]any{"iat": nil}), "max_age", "iat claim missing: needed for max token age 1h0m0s"},
		{"wrong audience", tok(map[string]any{"aud": []string{"https://a", "https://b"}}), "audience",
			"audience [https://a https://b] not in allowed [" + prod + " " + prod + "/token]"},
		{"no audience", tok(map[string]any{"aud": nil}), "audience", "aud claim missing"},
		{"subject not allowed", tok(map[string]any{"sub": "system:serviceaccount:default:default"}), "subject",
			`subject "system:serviceaccount:default:default" not allowed by trust policy "ext" (allowed: [system:serviceaccount:ai-jobs:*])`},
		{"no subject", tok(map[string]any{"sub": nil}), "subject", "sub claim missing"},
	}
	tokenURL := prod + "/token"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, tokenURL, url.Values{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {tc.token}}, "")
			wantOAuthError(t, r, 400, "invalid_grant", "assertion: "+tc.detail)
			if rec := lastRecord(t, idp, "token"); rec.Check != tc.check || rec.Grant != "jwt_bearer" || rec.Outcome != "invalid_grant" {
				t.Fatalf("log: check %q grant %q outcome %q, want check %q", rec.Check, rec.Grant, rec.Outcome, tc.check)
			}
			r = postForm(t, tokenURL, url.Values{
				"grant_type": {mockidp.GrantTokenExchange}, "subject_token": {tc.token},
				"subject_token_type": {mockidp.TokenTypeJWT}, "client_id": {"runner"},
			}, "")
			wantOAuthError(t, r, 400, "invalid_grant", "subject_token: "+tc.detail)
			if tc.check == "issuer" {
				return // an unknown issuer is not a federated assertion: see TestClientCredentials
			}
			r = postForm(t, tokenURL, url.Values{
				"grant_type": {"client_credentials"}, "client_assertion": {tc.token},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			}, "")
			if tc.check == "format" {
				wantOAuthError(t, r, 401, "invalid_client", tc.detail)
				return
			}
			wantOAuthError(t, r, 401, "invalid_client", "client_assertion: "+tc.detail)
		})
	}

	t.Run("accepted within the clock skew", func(t *testing.T) {
		a := tok(map[string]any{"iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-20 * time.Second).Unix()})
		r := postForm(t, tokenURL, url.Values{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {a}}, "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
}

func TestKeysCachedAndRefetchedOnUnknownKid(t *testing.T) {
	ext := newExtIssuer(t, false)
	idp := start(t, baseConfig(ext))
	prod := idp.IssuerURL("prod")
	jwtBearer := func() response {
		a := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod})
		return postForm(t, prod+"/token", url.Values{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {a}}, "")
	}
	for range 3 {
		if r := jwtBearer(); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	if d, j := ext.fetches(); d != 1 || j != 1 {
		t.Fatalf("after 3 tokens with one key: %d discovery and %d JWKS fetches, want 1 and 1", d, j)
	}
	ext.addKey() // the issuer rotates: new tokens carry kid ext-b
	if r := jwtBearer(); r.Status != 200 {
		t.Fatalf("after rotation: %d %s", r.Status, r.Raw)
	}
	if _, j := ext.fetches(); j != 2 {
		t.Fatalf("JWKS fetches after rotation = %d, want 2", j)
	}
	if r := jwtBearer(); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if _, j := ext.fetches(); j != 2 {
		t.Fatalf("JWKS fetches = %d, want still 2 (cached)", j)
	}
}

func TestKeySources(t *testing.T) {
	t.Run("jwksURL skips discovery", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		cfg := baseConfig(ext)
		cfg.Issuers[0].Trust[0].JWKSURL = ext.URL + "/openid/v1/jwks"
		idp := start(t, cfg)
		expectBearerOK(t, idp.IssuerURL("prod"), ext)
		if d, j := ext.fetches(); d != 0 || j != 1 {
			t.Fatalf("fetches: discovery %d, JWKS %d; want 0, 1", d, j)
		}
	})
	t.Run("discoveryURL", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		cfg := baseConfig(ext)
		cfg.Issuers[0].Trust[0].DiscoveryURL = ext.URL + "/.well-known/openid-configuration"
		expectBearerOK(t, start(t, cfg).IssuerURL("prod"), ext)
	})
	t.Run("jwksFile", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		ext.mu.Lock()
		set := ext.publicSetLocked()
		ext.mu.Unlock()
		b, _ := json.Marshal(set)
		p := filepath.Join(t.TempDir(), "jwks.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig(ext)
		cfg.Issuers[0].Trust[0].JWKSFile = p
		expectBearerOK(t, start(t, cfg).IssuerURL("prod"), ext)
		if d, j := ext.fetches(); d+j != 0 {
			t.Fatalf("a JWKS file must not fetch: %d, %d", d, j)
		}
	})
	t.Run("TLS with caFile", func(t *testing.T) {
		ext := newExtIssuer(t, true)
		cfg := baseConfig(ext)
		cfg.Issuers[0].Trust[0].CAFile = ext.caFile(t)
		expectBearerOK(t, start(t, cfg).IssuerURL("prod"), ext)
	})
	t.Run("TLS without caFile", func(t *testing.T) {
		ext := newExtIssuer(t, true)
		idp := start(t, baseConfig(ext))
		prod := idp.IssuerURL("prod")
		r := bearer(t, prod, ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod}))
		wantOAuthError(t, r, 503, "temporarily_unavailable", "assertion: discovery "+ext.URL+"/.well-known/openid-configuration: tls: failed to verify certificate")
	})
	t.Run("JWKS down", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		ext.failJWKS = true
		idp := start(t, baseConfig(ext))
		prod := idp.IssuerURL("prod")
		r := bearer(t, prod, ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod}))
		wantOAuthError(t, r, 503, "temporarily_unavailable", "assertion: fetch JWKS "+ext.URL+"/openid/v1/jwks: HTTP 500")
		if rec := lastRecord(t, idp, "token"); rec.Check != "keys" {
			t.Fatalf("check = %q", rec.Check)
		}
	})
	t.Run("discovery names another issuer", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		ext.discoveryIss = "https://impostor.example"
		idp := start(t, baseConfig(ext))
		prod := idp.IssuerURL("prod")
		r := bearer(t, prod, ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod}))
		wantOAuthError(t, r, 503, "temporarily_unavailable", `document names issuer "https://impostor.example", want "`+ext.URL+`"`)
	})
	t.Run("local issuer", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		cfg := baseConfig(ext)
		cfg.Issuers = append(cfg.Issuers, mockidp.IssuerConfig{Name: "staging", Clients: []mockidp.ClientConfig{{ID: "svc", Secret: "x", Audiences: []string{"AUD"}}}})
		cfg.Issuers[0].Trust = append(cfg.Issuers[0].Trust, mockidp.TrustConfig{LocalIssuer: "staging", Audiences: []string{"AUD"}})
		idp := start(t, cfg)
		staging := postForm(t, idp.IssuerURL("staging")+"/token", url.Values{"grant_type": {"client_credentials"}}, "svc:x")
		if staging.Status != 200 {
			t.Fatalf("%d %s", staging.Status, staging.Raw)
		}
		prod := idp.IssuerURL("prod")
		r := bearer(t, prod, staging.str("access_token"))
		if r.Status != 200 || claimsOf(t, r.str("access_token"))["sub"] != "svc" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("two policies for one issuer", func(t *testing.T) {
		ext := newExtIssuer(t, false)
		cfg := baseConfig(ext)
		cfg.Issuers[0].Trust = append(cfg.Issuers[0].Trust, mockidp.TrustConfig{Name: "ext-gateway", Issuer: ext.URL, Audiences: []string{"gateway"}})
		idp := start(t, cfg)
		prod := idp.IssuerURL("prod")
		r := bearer(t, prod, ext.token(time.Now(), map[string]any{"sub": "anyone", "aud": "gateway"}))
		if r.Status != 200 {
			t.Fatalf("second policy should accept: %d %s", r.Status, r.Raw)
		}
		r = bearer(t, prod, ext.token(time.Now(), map[string]any{"sub": "anyone", "aud": "nope"}))
		wantOAuthError(t, r, 400, "invalid_grant", "assertion: audience [nope] not in allowed")
	})
}

func bearer(t *testing.T, issuerURL, assertion string) response {
	t.Helper()
	return postForm(t, issuerURL+"/token", url.Values{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {assertion}}, "")
}

func expectBearerOK(t *testing.T, issuerURL string, ext *extIssuer) {
	t.Helper()
	r := bearer(t, issuerURL, ext.token(time.Now(), map[string]any{"sub": saSub, "aud": issuerURL}))
	if r.Status != 200 || !strings.HasPrefix(r.str("access_token"), "eyJ") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
