package mockidp_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/fedtoken/fedtoken/mockidp"
)

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSigningKeyFile: an issuer with a signingKeyFile publishes that key
// (PKCS#1 or PKCS#8), so its tokens verify across restarts.
func TestSigningKeyFile(t *testing.T) {
	key := testKeys()[3]
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{
		"pkcs1": writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
		"pkcs8": writePEM(t, "PRIVATE KEY", pkcs8),
	} {
		t.Run(name, func(t *testing.T) {
			idp := start(t, mockidp.Config{Issuers: []mockidp.IssuerConfig{{Name: "a", SigningKeyFile: file}}})
			var set jose.JSONWebKeySet
			r := get(t, idp.IssuerURL("a")+"/keys")
			if err := jsonUnmarshal(r.Raw, &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("%v %s", err, r.Raw)
			}
			if !set.Keys[0].IsPublic() || !equalPublic(set.Keys[0].Key, key.Public()) {
				t.Fatal("the JWKS does not publish the configured key")
			}
		})
	}
	bad := writePEM(t, "PRIVATE KEY", []byte("junk"))
	if _, err := mockidp.New("http://h", mockidp.WithIssuer(mockidp.IssuerConfig{Name: "a", SigningKeyFile: bad})); err == nil {
		t.Fatal("junk key accepted")
	}
}

// TestPrivateKeyJWTWithPEMFile registers a client key as a PEM file.
func TestPrivateKeyJWTWithPEMFile(t *testing.T) {
	key := testKeys()[4]
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pub := writePEM(t, "PUBLIC KEY", der)
	idp := start(t, mockidp.Config{Issuers: []mockidp.IssuerConfig{{Name: "a",
		Clients: []mockidp.ClientConfig{{ID: "svc", PublicKeyFile: pub}}}}})
	iss := idp.IssuerURL("a")
	assertion := signJWT(t, jose.JSONWebKey{Key: key}, map[string]any{
		"iss": "svc", "sub": "svc", "aud": iss + "/token", "exp": time.Now().Add(time.Minute).Unix(), "jti": "1",
	})
	r := postForm(t, iss+"/token", url.Values{"grant_type": {"client_credentials"}, "client_assertion": {assertion},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}, "")
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if rec := lastRecord(t, idp, "token"); rec.AuthMethod != mockidp.AuthPrivateKeyJWT || rec.ClientID != "svc" {
		t.Fatalf("log = %+v", rec)
	}
}
