package fedtoken_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/mockidp"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

const keyConfig = `providers:
  svc:
    issuer: {{IDP}}
    clientId: svc-account
    authFlow: jwt_bearer_key
    assertion: {privateKeyFile: {{DIR}}/%s, keyId: sa-key-1}
`

// pemKey returns key as a PKCS #1 PEM file, as service-account keys are
// often handed out.
func pemKey(key *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// TestJWTBearerKeyAgainstMockIdP: authFlow jwt_bearer_key end to end —
// fedtoken signs an assertion with the client's private key file, mockidp
// verifies it with the key registered for the client and issues the
// client's own token; doctor's dry run passes; an unregistered key and a
// broken key file fail with the fix named and no key material shown.
func TestJWTBearerKeyAgainstMockIdP(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "sa-key-1", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *mockidp.Config) {
		c.Issuers[0].Clients = append(c.Issuers[0].Clients,
			mockidp.ClientConfig{ID: "svc-account", JWKS: jwks, Grants: []string{"jwt_bearer"}, Audiences: []string{"https://llm.example"}})
	})
	h.writeFile("sa.pem", pemKey(key))
	h.writeFile("stranger.pem", pemKey(stranger))
	h.writeFile("broken.pem", "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END RSA PRIVATE KEY-----\n")
	keyMaterial := []string{"-----BEGIN", "c2VjcmV0LWtleS1ieXRlcw", strings.Split(pemKey(key), "\n")[1], strings.Split(pemKey(stranger), "\n")[1]}
	noKeyMaterial := func(t *testing.T, r result) {
		t.Helper()
		for _, m := range keyMaterial {
			if strings.Contains(r.stdout+r.stderr, m) {
				t.Errorf("output shows key material %q:\n%s%s", m, r.stdout, r.stderr)
			}
		}
	}

	h.config = h.writeConfig(strings.Replace(keyConfig, "%s", "sa.pem", 1))
	r := h.run("token", "svc")
	if r.code != 0 {
		t.Fatalf("token: exit %d:\n%s", r.code, r.stderr)
	}
	_, claims, err := jwt.Decode(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "svc-account" || claims.Raw["client_id"] != "svc-account" || claims.Issuer != h.idp.IssuerURL("idp") {
		t.Errorf("access token claims = %+v", claims)
	}
	var rec *mockidp.RequestRecord
	for _, q := range h.idp.Requests() {
		if q.Endpoint == "token" {
			rec = &q
		}
	}
	if rec == nil || rec.Grant != "jwt_bearer" || rec.Outcome != "ok" || rec.ClientID != "svc-account" ||
		rec.Subject["iss"] != "svc-account" || rec.Subject["sub"] != "svc-account" {
		t.Fatalf("mockidp saw %+v", rec)
	}
	noKeyMaterial(t, r)

	d := h.run("doctor", "svc")
	if d.code != 0 || !strings.Contains(d.stdout, "jwt_bearer_key: the IdP issued a Bearer token") {
		t.Errorf("doctor: exit %d:\n%s%s", d.code, d.stdout, d.stderr)
	}

	// A key the IdP does not know (in a fresh cache: the token above is
	// the client's and stays valid whatever key signs the next assertion).
	h.cacheDir = h.cacheDir + "-2"
	h.config = h.writeConfig(strings.Replace(keyConfig, "%s", "stranger.pem", 1))
	r = h.run("token", "svc")
	if r.code != exitcode.Rejected || !strings.Contains(r.stderr, "signature does not verify") || !strings.Contains(r.stderr, "assertion.privateKeyFile") {
		t.Errorf("unregistered key: exit %d, want %d with mockidp's reason and the setting to check:\n%s", r.code, exitcode.Rejected, r.stderr)
	}
	noKeyMaterial(t, r)

	h.config = h.writeConfig(strings.Replace(keyConfig, "%s", "broken.pem", 1))
	r = h.run("token", "svc")
	if r.code != exitcode.Config || !strings.Contains(r.stderr, "assertion.privateKeyFile: "+h.dir+"/broken.pem: parse RSA PRIVATE KEY") {
		t.Errorf("broken key file: exit %d, want %d naming the setting and the path:\n%s", r.code, exitcode.Config, r.stderr)
	}
	noKeyMaterial(t, r)
}
