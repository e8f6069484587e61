package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// Sign returns a compact JWS (header.claims.signature) over claims, signed
// with key. The algorithm follows the key: RS256 for RSA, ES256, ES384 or
// ES512 for ECDSA on P-256, P-384 or P-521, and EdDSA for Ed25519. The
// header carries "typ":"JWT" and, when keyID is not empty, "kid".
//
// key may be any crypto.Signer (an in-memory key or a KMS/HSM handle); an
// ECDSA signer must return ASN.1 signatures, as crypto/ecdsa does. Claims
// are encoded with encoding/json. Sign never puts key material in an error.
func Sign(claims map[string]any, key crypto.Signer, keyID string) (string, error) {
	if key == nil {
		return "", errors.New("jwt: sign: no signing key")
	}
	alg, hash, err := algorithmFor(key.Public())
	if err != nil {
		return "", err
	}
	header := map[string]string{"alg": alg, "typ": "JWT"}
	if keyID != "" {
		header["kid"] = keyID
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("jwt: sign: encode header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwt: sign: encode claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(h) + "." + enc.EncodeToString(c)

	sig, err := signBytes(key, hash, []byte(signingInput))
	if err != nil {
		return "", fmt.Errorf("jwt: sign %s: %w", alg, err)
	}
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// algorithmFor maps a public key to its JWS algorithm and digest.
// hash is 0 for EdDSA, which signs the message itself.
func algorithmFor(pub crypto.PublicKey) (alg string, hash crypto.Hash, err error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", 0, fmt.Errorf("jwt: sign: RSA key has %d bits, at least 2048 are required", k.N.BitLen())
		}
		return "RS256", crypto.SHA256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", crypto.SHA256, nil
		case elliptic.P384():
			return "ES384", crypto.SHA384, nil
		case elliptic.P521():
			return "ES512", crypto.SHA512, nil
		}
		return "", 0, fmt.Errorf("jwt: sign: unsupported ECDSA curve %s (use P-256, P-384 or P-521)", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return "EdDSA", 0, nil
	}
	return "", 0, fmt.Errorf("jwt: sign: unsupported key type %T (use RSA, ECDSA or Ed25519)", pub)
}

// signBytes signs msg and returns the signature in JWS encoding.
func signBytes(key crypto.Signer, hash crypto.Hash, msg []byte) ([]byte, error) {
	if hash == 0 { // Ed25519 signs the message, not a digest.
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	h := hash.New()
	h.Write(msg)
	digest := h.Sum(nil)
	sig, err := key.Sign(rand.Reader, digest, hash)
	if err != nil {
		return nil, err
	}
	if pub, ok := key.Public().(*ecdsa.PublicKey); ok {
		return ecdsaRaw(sig, pub.Curve)
	}
	return sig, nil
}

// ecdsaRaw converts an ASN.1 ECDSA signature to the fixed-size r||s form
// JWS requires (RFC 7518 §3.4).
func ecdsaRaw(der []byte, curve elliptic.Curve) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
		return nil, errors.New("signer returned a malformed ECDSA signature (expected ASN.1)")
	}
	size := (curve.Params().BitSize + 7) / 8
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > size*8 || rs.S.BitLen() > size*8 {
		return nil, errors.New("signer returned an out-of-range ECDSA signature")
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}
