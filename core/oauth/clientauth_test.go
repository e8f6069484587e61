package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
)

func TestClientAuthApply(t *testing.T) {
	federated := func(context.Context) (string, error) { return "platform.jwt.value", nil }
	tests := []struct {
		name       string
		auth       ClientAuth
		wantForm   string
		wantHeader string
	}{
		{
			name:       "auto with secret is basic",
			auth:       ClientAuth{ClientID: "cli", ClientSecret: "sec"},
			wantForm:   "grant_type=x",
			wantHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte("cli:sec")),
		},
		{
			name:     "auto without secret is none",
			auth:     ClientAuth{ClientID: "cli"},
			wantForm: "client_id=cli&grant_type=x",
		},
		{
			name:       "basic form-encodes id and secret (RFC 6749 2.3.1)",
			auth:       ClientAuth{Method: AuthClientSecretBasic, ClientID: "my client:1", ClientSecret: "p@ss w/rd+%"},
			wantForm:   "grant_type=x",
			wantHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte("my+client%3A1:p%40ss+w%2Frd%2B%25")),
		},
		{
			name:     "post",
			auth:     ClientAuth{Method: AuthClientSecretPost, ClientID: "cli", ClientSecret: "sec"},
			wantForm: "client_id=cli&client_secret=sec&grant_type=x",
		},
		{
			name:     "none without client id sends nothing",
			auth:     ClientAuth{Method: AuthNone},
			wantForm: "grant_type=x",
		},
		{
			name:     "federated with client id",
			auth:     ClientAuth{Method: AuthFederated, ClientID: "workload", Assertion: federated},
			wantForm: "client_assertion=platform.jwt.value&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id=workload&grant_type=x",
		},
		{
			name:     "federated omitting client id (keycloak)",
			auth:     ClientAuth{Method: AuthFederated, ClientID: "workload", OmitClientID: true, Assertion: federated},
			wantForm: "client_assertion=platform.jwt.value&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&grant_type=x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.auth.prepare(context.Background())
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			form := url.Values{"grant_type": {"x"}}
			h := http.Header{}
			if err := p.apply(form, h, "https://idp.test/token", testNow); err != nil {
				t.Fatalf("apply: %v", err)
			}
			if got := form.Encode(); got != tt.wantForm {
				t.Errorf("form = %s\nwant   %s", got, tt.wantForm)
			}
			if got := h.Get("Authorization"); got != tt.wantHeader {
				t.Errorf("Authorization = %q, want %q", got, tt.wantHeader)
			}
		})
	}
}

func TestPrivateKeyJWTAssertion(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, audience, wantAud string
		omit                    bool
	}{
		{name: "aud is the token endpoint", wantAud: "https://idp.test/token"},
		{name: "aud configured", audience: "https://idp.test", wantAud: "https://idp.test", omit: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			auth := ClientAuth{Method: AuthPrivateKeyJWT, ClientID: "svc", PrivateKey: key, KeyID: "k1", Audience: tt.audience, OmitClientID: tt.omit}
			p, err := auth.prepare(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{}
			if err := p.apply(form, http.Header{}, "https://idp.test/token", testNow); err != nil {
				t.Fatal(err)
			}
			if got := form.Get("client_assertion_type"); got != ClientAssertionTypeJWTBearer {
				t.Errorf("client_assertion_type = %q", got)
			}
			if got, want := form.Has("client_id"), !tt.omit; got != want {
				t.Errorf("client_id present = %v, want %v", got, want)
			}
			hdr, claims := verifyES256(t, form.Get("client_assertion"), &key.PublicKey)
			if hdr["alg"] != "ES256" || hdr["kid"] != "k1" {
				t.Errorf("header = %v", hdr)
			}
			if claims["iss"] != "svc" || claims["sub"] != "svc" || claims["aud"] != tt.wantAud {
				t.Errorf("iss/sub/aud = %v/%v/%v", claims["iss"], claims["sub"], claims["aud"])
			}
			iat, exp := claims["iat"].(float64), claims["exp"].(float64)
			if int64(iat) != testNow.Unix() || exp-iat != 60 {
				t.Errorf("iat = %v, exp = %v; want iat now and a 60 s lifetime", iat, exp)
			}
			if jti, _ := claims["jti"].(string); len(jti) < 16 {
				t.Errorf("jti = %q, want a random id", jti)
			}
		})
	}
}

func TestClientAuthValidate(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		auth    ClientAuth
		wantErr string
	}{
		{ClientAuth{Method: AuthClientSecretBasic, ClientSecret: "s"}, "client_secret_basic: clientId is empty"},
		{ClientAuth{Method: AuthClientSecretPost, ClientID: "c"}, "client_secret_post: clientSecret is empty"},
		{ClientAuth{Method: AuthPrivateKeyJWT, PrivateKey: key}, "private_key_jwt: clientId is empty"},
		{ClientAuth{Method: AuthPrivateKeyJWT, ClientID: "c"}, "set clientAuth.privateKeyFile"},
		{ClientAuth{Method: AuthFederated, ClientID: "c"}, "set subjectTokenSource"},
		{ClientAuth{Method: "mtls"}, `client auth method "mtls" is not one of`},
	}
	for _, tt := range tests {
		err := tt.auth.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Validate(%v) = %v, want %q", tt.auth.Method, err, tt.wantErr)
		}
	}
}

func TestFederatedAssertionReadOncePerCall(t *testing.T) {
	idp := stubidp.New(t, stubidp.JSON(503, `{"error":"server_error"}`), stubidp.JSON(200, okBody))
	c, _ := testClient(idp)
	var calls atomic.Int32
	auth := ClientAuth{Method: AuthFederated, OmitClientID: true, Assertion: func(context.Context) (string, error) {
		calls.Add(1)
		return "platform.jwt.value", nil
	}}
	if _, err := c.Token(context.Background(), idp.TokenURL(), url.Values{"grant_type": {"client_credentials"}}, auth); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("assertion read %d times, want 1", calls.Load())
	}
	for i, r := range idp.Requests() {
		if r.Form.Get("client_assertion") != "platform.jwt.value" {
			t.Errorf("attempt %d client_assertion = %q", i, r.Form.Get("client_assertion"))
		}
	}
	// A second call reads again: assertions are never cached across calls.
	if _, err := c.Token(context.Background(), idp.TokenURL(), url.Values{}, auth); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("assertion read %d times after two calls, want 2", calls.Load())
	}
}

func TestFederatedAssertionErrors(t *testing.T) {
	idp := stubidp.New(t, stubidp.JSON(200, okBody))
	c, _ := testClient(idp)
	boom := errors.New("subject: read /var/run/secrets/tokens/oauth2/token: no such file")
	for _, tt := range []struct {
		fn      func(context.Context) (string, error)
		wantErr string
	}{
		{func(context.Context) (string, error) { return "", boom }, "read assertion: subject: read /var/run"},
		{func(context.Context) (string, error) { return "", nil }, "returned an empty token"},
	} {
		_, err := c.Token(context.Background(), idp.TokenURL(), url.Values{}, ClientAuth{Method: AuthFederated, Assertion: tt.fn})
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("error = %v, want %q", err, tt.wantErr)
		}
	}
	if n := len(idp.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0 (nothing to send)", n)
	}
}

func TestPrivateKeyJWTFreshPerAttempt(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := stubidp.New(t, stubidp.JSON(500, `{"error":"server_error"}`), stubidp.JSON(200, okBody))
	c, _ := testClient(idp)
	auth := ClientAuth{Method: AuthPrivateKeyJWT, ClientID: "svc", PrivateKey: key}
	if _, err := c.Token(context.Background(), idp.TokenURL(), url.Values{}, auth); err != nil {
		t.Fatal(err)
	}
	reqs := idp.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2", len(reqs))
	}
	_, c1 := verifyES256(t, reqs[0].Form.Get("client_assertion"), &key.PublicKey)
	_, c2 := verifyES256(t, reqs[1].Form.Get("client_assertion"), &key.PublicKey)
	if c1["jti"] == c2["jti"] {
		t.Errorf("both attempts used jti %v; a retry must not replay the assertion", c1["jti"])
	}
	if c1["aud"] != idp.TokenURL() {
		t.Errorf("aud = %v, want %s", c1["aud"], idp.TokenURL())
	}
}

// verifyES256 checks a compact ES256 JWS with pub and returns its header and claims.
func verifyES256(t *testing.T, tok string, pub *ecdsa.PublicKey) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d segments", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v (%d bytes)", err, len(sig))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("assertion signature does not verify")
	}
	var hdr, claims map[string]any
	for i, v := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return hdr, claims
}
