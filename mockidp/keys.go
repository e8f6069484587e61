package mockidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is an issuer's RS256 key.
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string
}

// generateRSAKey is the default key source: a fresh 2048-bit key.
func generateRSAKey() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
}

func newSigningKey(priv *rsa.PrivateKey) (*signingKey, error) {
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	return &signingKey{priv: priv, kid: b64(tp[:12])}, nil
}

// loadSigningKey reads a PEM RSA private key (PKCS#1 or PKCS#8).
func loadSigningKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("signing key: %s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %s: not a PKCS#1 or PKCS#8 private key: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: %s: want an RSA key, got %T", path, k)
	}
	return rk, nil
}

// sign serialises claims as a compact RS256 JWS. typ is the header's typ
// ("" omits it).
func (k *signingKey) sign(claims map[string]any, typ string) (string, error) {
	opts := new(jose.SignerOptions)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(jose.RS256)},
	}, opts)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

// publicKey returns the JWK of the public key.
func (k *signingKey) publicKey() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"}
}

// jwks returns the public key set served at jwks_uri.
func (k *signingKey) jwks() *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.publicKey()}}
}

// parsePublicKeys reads a PEM public key (PKIX or PKCS#1), a PEM
// certificate, a JWK, or a JWKS.
func parsePublicKeys(data []byte) ([]jose.JSONWebKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		var pub any
		var err error
		switch block.Type {
		case "CERTIFICATE":
			var cert *x509.Certificate
			cert, err = x509.ParseCertificate(block.Bytes)
			if err == nil {
				pub = cert.PublicKey
			}
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM %s: %w", block.Type, err)
		}
		return []jose.JSONWebKey{{Key: pub}}, nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err == nil && len(set.Keys) > 0 {
		return set.Keys, nil
	}
	var one jose.JSONWebKey
	if err := json.Unmarshal(data, &one); err == nil && one.Key != nil {
		return []jose.JSONWebKey{one}, nil
	}
	return nil, errors.New("not a PEM public key, certificate, JWK or JWKS")
}
