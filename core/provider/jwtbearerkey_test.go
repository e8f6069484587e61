package provider_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/provider"
)

// writeKey writes key as PKCS #8 PEM and returns the path.
func writeKey(t *testing.T, dir, name string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyProvider(tokenURL, keyFile string) config.Provider {
	return config.Provider{ID: "svc", ClientID: "svc-account", TokenEndpoint: tokenURL, AuthFlow: config.FlowJWTBearerKey,
		Assertion:   config.Assertion{PrivateKeyFile: keyFile, KeyID: "k1"},
		HTTPTimeout: 5 * time.Second, TokenExpirySkew: 30 * time.Second}
}

// verifiesWith reports whether a jwt_bearer_key assertion is signed by pub
// (ES256) and names the client.
func verifiesWith(t *testing.T, tok string, pub *ecdsa.PublicKey) bool {
	t.Helper()
	h, c, err := jwt.Decode(tok)
	if err != nil {
		t.Fatalf("assertion: %v", err)
	}
	if h.Alg != "ES256" || c.Issuer != "svc-account" || c.Subject != "svc-account" {
		t.Fatalf("assertion alg %s iss %s sub %s", h.Alg, c.Issuer, c.Subject)
	}
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return len(sig) == 64 && ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// TestJWTBearerKeyRotatedKeyFile: the key file is a mounted Secret; every
// acquisition signs with the key it holds now.
func TestJWTBearerKeyRotatedKeyFile(t *testing.T) {
	dir := t.TempDir()
	first, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	second, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyFile := writeKey(t, dir, "key.pem", first)
	i := newIDP(t, func(w http.ResponseWriter, n int, _ map[string][]string) { tokenJSON(w, "at", 3600) })
	p, err := provider.New(keyProvider(i.URL+"/token", keyFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := p.TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeKey(t, dir, "key.pem", second)
	p.Invalidate(tok)
	if _, err := p.TokenContext(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := i.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2", len(reqs))
	}
	if !verifiesWith(t, reqs[0]["assertion"][0], &first.PublicKey) || !verifiesWith(t, reqs[1]["assertion"][0], &second.PublicKey) {
		t.Error("the assertions are not signed by the first key, then the rotated one")
	}
	if _, ok := reqs[0]["client_id"]; ok {
		t.Error("client_id sent without client authentication; the assertion names the client")
	}
}

// TestJWTBearerKeyBadKeyFile: a key file fedtoken cannot sign with fails
// provider.New with an error naming the setting, the path and the fault,
// and never showing the file's content.
func TestJWTBearerKeyBadKeyFile(t *testing.T) {
	dir := t.TempDir()
	const marker = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-key"
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "absent.pem"), "no such file or directory"},
		{"not PEM", write("garbage.pem", []byte(marker)), "holds no PEM block"},
		{"public key", write("public.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), `PEM block "PUBLIC KEY" is not a private key`},
		{"broken key", write("broken.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(marker)})), "parse PRIVATE KEY"},
		{"RSA 1024", writeKey(t, dir, "small.pem", small), "RSA key has 1024 bits, at least 2048 are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provider.New(keyProvider("http://127.0.0.1:1/token", tt.path))
			if err == nil {
				t.Fatal("provider.New succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, "assertion.privateKeyFile") || !strings.Contains(msg, tt.path) || !strings.Contains(msg, tt.want) {
				t.Errorf("err = %q, want the setting, %s and %q", msg, tt.path, tt.want)
			}
			if strings.Contains(msg, marker) || strings.Contains(msg, "BEGIN") {
				t.Errorf("err shows the file's content: %q", msg)
			}
		})
	}
}
