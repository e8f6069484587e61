package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"strings"
	"testing"
)

func TestSignVerifies(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     crypto.Signer
		wantAlg string
	}{
		{"rsa", rsaKey, "RS256"},
		{"p256", signTestECDSA(t, elliptic.P256()), "ES256"},
		{"p384", signTestECDSA(t, elliptic.P384()), "ES384"},
		{"p521", signTestECDSA(t, elliptic.P521()), "ES512"},
		{"ed25519", edKey, "EdDSA"},
	}
	claims := map[string]any{"iss": "client-1", "sub": "client-1", "aud": "https://idp.test/token", "exp": 1700000060, "iat": 1700000000}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(claims, tt.key, "kid-1")
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("got %d segments, want 3", len(parts))
			}
			var hdr map[string]string
			signTestSegment(t, parts[0], &hdr)
			if hdr["alg"] != tt.wantAlg || hdr["kid"] != "kid-1" || hdr["typ"] != "JWT" {
				t.Errorf("header = %v, want alg %s kid kid-1 typ JWT", hdr, tt.wantAlg)
			}
			var got map[string]any
			signTestSegment(t, parts[1], &got)
			if got["iss"] != "client-1" || got["aud"] != "https://idp.test/token" || got["exp"] != float64(1700000060) {
				t.Errorf("claims = %v", got)
			}
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatalf("signature encoding: %v", err)
			}
			if !signTestVerify(t, tt.key.Public(), []byte(parts[0]+"."+parts[1]), sig) {
				t.Fatal("signature does not verify with the public key")
			}
			// A changed payload must not verify: proves verify is not vacuous.
			if signTestVerify(t, tt.key.Public(), []byte(parts[0]+"."+parts[1]+"x"), sig) {
				t.Fatal("signature verifies over a different payload")
			}
		})
	}
}

func TestSignOmitsEmptyKeyID(t *testing.T) {
	tok, err := Sign(map[string]any{"sub": "x"}, signTestECDSA(t, elliptic.P256()), "")
	if err != nil {
		t.Fatal(err)
	}
	var hdr map[string]any
	signTestSegment(t, strings.Split(tok, ".")[0], &hdr)
	if _, ok := hdr["kid"]; ok {
		t.Errorf("header %v has a kid, want none", hdr)
	}
}

func TestSignRejects(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     crypto.Signer
		claims  map[string]any
		wantErr string
	}{
		{"nil key", nil, nil, "no signing key"},
		{"small rsa", small, nil, "1024 bits"},
		{"p224", signTestECDSA(t, elliptic.P224()), nil, "unsupported ECDSA curve P-224"},
		{"foreign key", signTestForeign{}, nil, "unsupported key type"},
		{"bad ecdsa signer", signTestGarbage{signTestECDSA(t, elliptic.P256())}, nil, "malformed ECDSA signature"},
		{"unencodable claims", signTestECDSA(t, elliptic.P256()), map[string]any{"x": func() {}}, "encode claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(tt.claims, tt.key, "")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Sign error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func signTestVerify(t *testing.T, pub crypto.PublicKey, input, sig []byte) bool {
	t.Helper()
	switch k := pub.(type) {
	case *rsa.PublicKey:
		d := crypto.SHA256.New()
		d.Write(input)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d.Sum(nil), sig) == nil
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			t.Fatalf("ECDSA signature has %d bytes, want %d", len(sig), 2*size)
		}
		hash := map[int]crypto.Hash{256: crypto.SHA256, 384: crypto.SHA384, 521: crypto.SHA512}[k.Curve.Params().BitSize]
		d := hash.New()
		d.Write(input)
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, d.Sum(nil), r, s)
	case ed25519.PublicKey:
		return ed25519.Verify(k, input, sig)
	}
	t.Fatalf("unexpected key type %T", pub)
	return false
}

func signTestSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment encoding: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("segment JSON: %v", err)
	}
}

func signTestECDSA(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type signTestForeign struct{}

func (signTestForeign) Public() crypto.PublicKey { return "not a key" }
func (signTestForeign) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, nil
}

// signTestGarbage is an ECDSA signer that returns bytes that are not ASN.1.
type signTestGarbage struct{ k *ecdsa.PrivateKey }

func (g signTestGarbage) Public() crypto.PublicKey { return g.k.Public() }
func (signTestGarbage) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte{1, 2, 3}, nil
}
