package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seg base64url-encodes a JSON text the way issuers do (no padding).
func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// sig is a recognisable signature segment, so tests can prove no error
// message ever quotes a token.
var sig = seg("signature-that-must-never-appear-in-an-error")

func token(header, claims string) string { return seg(header) + "." + seg(claims) + "." + sig }

const rs256 = `{"alg":"RS256","kid":"k1","typ":"JWT"}`

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		header Header
		claims Claims
	}{
		{
			name:   "kubernetes projected token",
			token:  token(rs256, `{"aud":["https://idp.example"],"exp":1798279200,"iat":1798275600,"nbf":1798275600,"iss":"https://kubernetes.default.svc","jti":"b3f0","sub":"system:serviceaccount:ai:agent","kubernetes.io":{"namespace":"ai"}}`),
			header: Header{Alg: "RS256", Kid: "k1", Typ: "JWT"},
			claims: Claims{
				Issuer:    "https://kubernetes.default.svc",
				Subject:   "system:serviceaccount:ai:agent",
				ID:        "b3f0",
				Audience:  []string{"https://idp.example"},
				ExpiresAt: time.Date(2026, 12, 26, 10, 0, 0, 0, time.UTC),
				IssuedAt:  time.Date(2026, 12, 26, 9, 0, 0, 0, time.UTC),
				NotBefore: time.Date(2026, 12, 26, 9, 0, 0, 0, time.UTC),
			},
		},
		{
			name:   "aud as a single string",
			token:  token(`{"alg":"ES256"}`, `{"aud":"https://github.com/org","sub":"repo:org/r:ref:refs/heads/main"}`),
			header: Header{Alg: "ES256"},
			claims: Claims{Subject: "repo:org/r:ref:refs/heads/main", Audience: []string{"https://github.com/org"}},
		},
		{
			name:   "fractional numeric dates",
			token:  token(rs256, `{"exp":1798279200.25,"iat":1.7982756e9}`),
			header: Header{Alg: "RS256", Kid: "k1", Typ: "JWT"},
			claims: Claims{
				ExpiresAt: time.Date(2026, 12, 26, 10, 0, 0, 250_000_000, time.UTC),
				IssuedAt:  time.Date(2026, 12, 26, 9, 0, 0, 0, time.UTC),
			},
		},
		{
			name:   "null registered claims count as absent",
			token:  token(`{"alg":"none","kid":null}`, `{"iss":null,"aud":null,"exp":null}`),
			header: Header{Alg: "none"},
			claims: Claims{},
		},
		{
			name:   "empty claims object and unsecured token",
			token:  seg(`{"alg":"none"}`) + "." + seg(`{}`) + ".",
			header: Header{Alg: "none"},
			claims: Claims{},
		},
		{
			name:   "padded segments are tolerated",
			token:  base64.URLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"a"}`)) + "." + sig,
			header: Header{Alg: "RS256"},
			claims: Claims{Subject: "a"},
		},
		{
			name:   "empty aud array",
			token:  token(rs256, `{"aud":[]}`),
			header: Header{Alg: "RS256", Kid: "k1", Typ: "JWT"},
			claims: Claims{Audience: []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, c, err := Decode(tt.token)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.header, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if c.Raw == nil {
				t.Fatal("Raw is nil after a successful Decode")
			}
			c.Raw = nil
			if diff := cmp.Diff(tt.claims, c); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRawKeepsEveryClaim(t *testing.T) {
	_, c, err := Decode(token(rs256, `{"sub":"x","exp":1798279200,"kubernetes.io":{"namespace":"ai","pod":{"name":"p"}},"run_id":"42","big":12345678901234567890}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub":           "x",
		"exp":           json.Number("1798279200"),
		"kubernetes.io": map[string]any{"namespace": "ai", "pod": map[string]any{"name": "p"}},
		"run_id":        "42",
		"big":           json.Number("12345678901234567890"),
	}
	if diff := cmp.Diff(want, c.Raw); diff != "" {
		t.Errorf("Raw (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"opaque token", "opaque-access-token-value", "jwt: not a JWT: expected 3 segments, got 1 (an opaque token?)"},
		{"two segments", seg(`{"alg":"RS256"}`) + "." + seg(`{}`), "jwt: not a JWT: expected 3 segments, got 2"},
		{"four segments", "a.b.c.d", "jwt: not a JWT: expected 3 segments, got 4"},
		{"JWE", "a.b.c.d.e", "jwt: not a JWT: expected 3 segments, got 5 (an encrypted JWE cannot be decoded)"},
		{"empty string", "", "jwt: not a JWT: expected 3 segments, got 1 (an opaque token?)"},
		{"empty header", "." + seg(`{}`) + "." + sig, "jwt: header is empty"},
		{"header not base64url", "eyJ!!!." + seg(`{}`) + "." + sig, "jwt: header is not base64url"},
		{"header standard base64", strings.ReplaceAll(seg(`{"alg":"RS256","x":"??>"}`), "_", "/") + "." + seg(`{}`) + "." + sig, "jwt: header is not base64url"},
		{"header not JSON", seg(`alg=RS256`) + "." + seg(`{}`) + "." + sig, "jwt: header is not valid JSON"},
		{"header is an array", seg(`["RS256"]`) + "." + seg(`{}`) + "." + sig, "jwt: header is not a JSON object (got array)"},
		{"header trailing data", seg(`{"alg":"RS256"}{}`) + "." + seg(`{}`) + "." + sig, "jwt: header has data after the JSON object"},
		{"alg not a string", token(`{"alg":256}`, `{}`), "jwt: header alg is not a string (got number)"},
		{"kid not a string", token(`{"alg":"RS256","kid":["a"]}`, `{}`), "jwt: header kid is not a string (got array)"},
		{"typ not a string", token(`{"alg":"RS256","typ":true}`, `{}`), "jwt: header typ is not a string (got boolean)"},
		{"empty claims", seg(rs256) + ".." + sig, "jwt: claims are empty"},
		{"claims not base64url", seg(rs256) + ".e30*." + sig, "jwt: claims are not base64url"},
		{"claims not JSON", token(rs256, `sub=me`), "jwt: claims are not valid JSON"},
		{"claims truncated JSON", token(rs256, `{"sub":"me"`), "jwt: claims are not valid JSON"},
		{"claims a string", token(rs256, `"sub"`), "jwt: claims are not a JSON object (got string)"},
		{"claims null", token(rs256, `null`), "jwt: claims are not a JSON object (got null)"},
		{"claims trailing data", token(rs256, `{} x`), "jwt: claims have data after the JSON object"},
		{"signature not base64url", seg(rs256) + "." + seg(`{}`) + ".sig+/", "jwt: signature is not base64url"},
		{"iss not a string", token(rs256, `{"iss":1}`), "jwt: claim iss is not a string (got number)"},
		{"sub not a string", token(rs256, `{"sub":{"id":1}}`), "jwt: claim sub is not a string (got object)"},
		{"jti not a string", token(rs256, `{"jti":7}`), "jwt: claim jti is not a string (got number)"},
		{"aud a number", token(rs256, `{"aud":3}`), "jwt: claim aud is not a string or an array of strings (got number)"},
		{"aud array with a number", token(rs256, `{"aud":["a",3]}`), "jwt: claim aud[1] is not a string (got number)"},
		{"exp a string", token(rs256, `{"exp":"1798279200"}`), "jwt: claim exp is not a number (got string)"},
		{"iat a boolean", token(rs256, `{"iat":true}`), "jwt: claim iat is not a number (got boolean)"},
		{"nbf an object", token(rs256, `{"nbf":{}}`), "jwt: claim nbf is not a number (got object)"},
		{"exp negative", token(rs256, `{"exp":-1}`), "jwt: claim exp is out of range (expected seconds since 1970, before year 10000)"},
		{"exp milliseconds beyond year 9999", token(rs256, `{"exp":1798279200000000}`), "jwt: claim exp is out of range (expected seconds since 1970, before year 10000)"},
		{"exp overflows float64", token(rs256, `{"exp":1e400}`), "jwt: claim exp is out of range (expected seconds since 1970, before year 10000)"},
		{"exp overflows int64", token(rs256, `{"exp":99999999999999999999}`), "jwt: claim exp is out of range (expected seconds since 1970, before year 10000)"},
		{"iat negative fraction", token(rs256, `{"iat":-0.5}`), "jwt: claim iat is out of range (expected seconds since 1970, before year 10000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(tt.token)
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q\nwant    %q", got, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("errors.Is(err, ErrMalformed) = false for %v", err)
			}
			assertNoTokenIn(t, err.Error(), tt.token)
		})
	}
}

// assertNoTokenIn fails if msg quotes the token or any non-trivial
// segment of it.
func assertNoTokenIn(t *testing.T, msg, token string) {
	t.Helper()
	if len(token) >= 8 && strings.Contains(msg, token) {
		t.Errorf("error %q contains the token", msg)
	}
	for _, s := range strings.Split(token, ".") {
		if len(s) >= 8 && strings.Contains(msg, s) {
			t.Errorf("error %q contains the token segment %q", msg, s)
		}
	}
}

func TestClaimHelpers(t *testing.T) {
	iat := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		claims    Claims
		now       time.Time
		expiresIn time.Duration
		expired   bool // with a 30 s leeway
		lifetime  time.Duration
		rotation  time.Time
	}{
		{
			name:      "one-hour projected token, fresh",
			claims:    Claims{IssuedAt: iat, ExpiresAt: iat.Add(time.Hour)},
			now:       iat.Add(10 * time.Minute),
			expiresIn: 50 * time.Minute,
			lifetime:  time.Hour,
			rotation:  iat.Add(48 * time.Minute),
		},
		{
			name:      "ten-minute token (Kubernetes minimum)",
			claims:    Claims{IssuedAt: iat, ExpiresAt: iat.Add(10 * time.Minute)},
			now:       iat.Add(10*time.Minute + 20*time.Second),
			expiresIn: -20 * time.Second,
			lifetime:  10 * time.Minute,
			rotation:  iat.Add(8 * time.Minute),
		},
		{
			name:      "expired beyond the leeway",
			claims:    Claims{IssuedAt: iat, ExpiresAt: iat.Add(10 * time.Minute)},
			now:       iat.Add(11 * time.Minute),
			expiresIn: -time.Minute,
			expired:   true,
			lifetime:  10 * time.Minute,
			rotation:  iat.Add(8 * time.Minute),
		},
		{
			name:      "48-hour token rotates after 24 h, not at 80 %",
			claims:    Claims{IssuedAt: iat, ExpiresAt: iat.Add(48 * time.Hour)},
			now:       iat,
			expiresIn: 48 * time.Hour,
			lifetime:  48 * time.Hour,
			rotation:  iat.Add(24 * time.Hour),
		},
		{
			name:      "lifetime not divisible by 5",
			claims:    Claims{IssuedAt: iat, ExpiresAt: iat.Add(601 * time.Second)},
			now:       iat,
			expiresIn: 601 * time.Second,
			lifetime:  601 * time.Second,
			rotation:  iat.Add(480800 * time.Millisecond),
		},
		{
			name:      "no exp",
			claims:    Claims{IssuedAt: iat},
			now:       iat.Add(1000 * time.Hour),
			expiresIn: 0,
		},
		{
			name:      "no iat",
			claims:    Claims{ExpiresAt: iat},
			now:       iat.Add(-time.Minute),
			expiresIn: time.Minute,
		},
		{
			name:      "exp before iat",
			claims:    Claims{IssuedAt: iat, ExpiresAt: iat.Add(-time.Hour)},
			now:       iat,
			expiresIn: -time.Hour,
			expired:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.claims.ExpiresIn(tt.now); got != tt.expiresIn {
				t.Errorf("ExpiresIn = %v, want %v", got, tt.expiresIn)
			}
			if got := tt.claims.Expired(tt.now, 30*time.Second); got != tt.expired {
				t.Errorf("Expired = %v, want %v", got, tt.expired)
			}
			if got := tt.claims.Lifetime(); got != tt.lifetime {
				t.Errorf("Lifetime = %v, want %v", got, tt.lifetime)
			}
			if got := tt.claims.RotationTime(); !got.Equal(tt.rotation) {
				t.Errorf("RotationTime = %v, want %v", got, tt.rotation)
			}
		})
	}
}
