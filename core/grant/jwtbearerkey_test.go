package grant

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/fedtoken/fedtoken/core/internal/stubidp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// testAssertionKey is the P-256 key jwt_bearer_key signs with in the
// golden and scenario matrices.
var testAssertionKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// signedES256 reports whether tok is a compact JWS whose header says ES256.
func signedES256(tok string) bool {
	h, _, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	var hdr struct{ Alg string }
	return json.Unmarshal(raw, &hdr) == nil && hdr.Alg == "ES256"
}

// decodeSegments returns the header and claims of a compact JWS.
func decodeSegments(t *testing.T, tok string) (hdr, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d segments", len(parts))
	}
	for i, v := range []*map[string]any{&hdr, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	return hdr, claims
}

// TestJWTBearerKeyRS256 signs with an RSA key (the usual service-account
// key) and checks the signature and every claim of two assertions.
func TestJWTBearerKeyRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := newIdP(t, stubidp.Reply{Status: 200, Body: okBody}, stubidp.Reply{Status: 200, Body: okBody})
	now := time.Unix(1_800_000_000, 0)
	g := &JWTBearerKey{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s), ClientID: "svc@example",
		Key: func() (crypto.Signer, error) { return key, nil }, now: func() time.Time { return now }}
	for range 2 {
		if _, err := g.TokenContext(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := s.Requests()
	var jtis []any
	for _, r := range reqs {
		if r.Header.Get("Authorization") != "" || r.Form.Has("client_id") || r.Form.Has("client_assertion") {
			t.Errorf("request carries client credentials: %v %v", r.Header, r.Form)
		}
		tok := r.Form.Get("assertion")
		parts := strings.Split(tok, ".")
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("RS256 signature does not verify: %v", err)
		}
		hdr, c := decodeSegments(t, tok)
		if hdr["alg"] != "RS256" || hdr["kid"] != nil {
			t.Errorf("header = %v, want RS256 without kid", hdr)
		}
		if c["iss"] != "svc@example" || c["sub"] != "svc@example" || c["aud"] != s.TokenURL() ||
			c["iat"] != float64(now.Unix()) || c["exp"] != float64(now.Unix()+60) {
			t.Errorf("claims = %v", c)
		}
		jtis = append(jtis, c["jti"])
	}
	if jtis[0] == jtis[1] || jtis[0] == "" {
		t.Errorf("jti %v and %v: want a fresh random jti per assertion", jtis[0], jtis[1])
	}
}

// TestJWTBearerKeyAudience: audience replaces the token endpoint in aud.
func TestJWTBearerKeyAudience(t *testing.T) {
	s := newIdP(t, stubidp.Reply{Status: 200, Body: okBody})
	g := &JWTBearerKey{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s), ClientID: "svc",
		Audience: "https://issuer.example", Key: func() (crypto.Signer, error) { return testAssertionKey(), nil }}
	if _, err := g.TokenContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, c := decodeSegments(t, s.Requests()[0].Form.Get("assertion")); c["aud"] != "https://issuer.example" {
		t.Errorf("aud = %v", c["aud"])
	}
}

// TestJWTBearerKeyErrors: a missing client id, key or key file stops the
// grant before any request, naming what to set.
func TestJWTBearerKeyErrors(t *testing.T) {
	keyErr := errors.New("assertion.privateKeyFile: read /keys/sa.pem: permission denied")
	tests := []struct {
		name string
		g    JWTBearerKey
		want string
	}{
		{"no client id", JWTBearerKey{Key: func() (crypto.Signer, error) { return testAssertionKey(), nil }}, "jwt_bearer_key: no client id to sign the assertion for; set clientId"},
		{"no key", JWTBearerKey{ClientID: "svc"}, "jwt_bearer_key: no signing key; set assertion.privateKeyFile"},
		{"key file unreadable", JWTBearerKey{ClientID: "svc", Key: func() (crypto.Signer, error) { return nil, keyErr }},
			"jwt_bearer_key: signing key: assertion.privateKeyFile: read /keys/sa.pem: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t)
			g := tt.g
			g.Endpoint, g.Client = Endpoint{TokenURL: s.TokenURL()}, testOAuthClient(s)
			_, err := g.TokenContext(context.Background())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
		})
	}
}

// TestJWTBearerKeyRejected: an IdP refusal carries the flow's hint and the
// presented claims, never the assertion.
func TestJWTBearerKeyRejected(t *testing.T) {
	s := newIdP(t, stubidp.Reply{Status: 400, Body: `{"error":"invalid_grant","error_description":"assertion: signature does not verify"}`})
	g := &JWTBearerKey{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s), ClientID: "svc",
		Key: func() (crypto.Signer, error) { return testAssertionKey(), nil }}
	_, err := g.TokenContext(context.Background())
	if !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if h := Hint(err); !strings.Contains(h, "assertion.privateKeyFile") || !strings.Contains(h, `iss="svc" sub="svc"`) {
		t.Errorf("hint = %q, want the flow's advice and the presented claims", h)
	}
	if a := s.Requests()[0].Form.Get("assertion"); strings.Contains(err.Error(), a) || strings.Contains(err.Error(), strings.Split(a, ".")[2]) {
		t.Errorf("error leaks the assertion: %v", err)
	}
}
