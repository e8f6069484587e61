package provider

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// clientAuth builds the client authentication of p. The federated method
// presents the subject token as client_assertion.
func clientAuth(p config.Provider, sub subject.Source) (oauth.ClientAuth, error) {
	a := oauth.ClientAuth{Method: p.ClientAuth.Method, ClientID: p.ClientID,
		KeyID: p.ClientAuth.KeyID}
	if p.ClientAuth.OmitClientID != nil {
		a.OmitClientID = *p.ClientAuth.OmitClientID
	}
	if p.HasClientSecret() {
		// Read once now so a missing file or variable fails at start-up.
		s, err := p.LoadClientSecret()
		if err != nil {
			return a, err
		}
		a.ClientSecret = s
		if p.ClientSecretFile != "" {
			// A mounted Kubernetes Secret is rotated in place: re-read the
			// file for every request, as the subject token is.
			a.ClientSecretFunc = p.LoadClientSecret
		}
	}
	switch a.Method {
	case oauth.AuthPrivateKeyJWT:
		key, err := loadPrivateKey(p.ClientAuth.PrivateKeyFile)
		if err != nil {
			return a, fmt.Errorf("clientAuth.privateKeyFile: %w", err)
		}
		a.PrivateKey = key
	case oauth.AuthFederated:
		if sub == nil {
			return a, errors.New("clientAuth.method federated needs a subjectTokenSource (the platform JWT sent as client_assertion)")
		}
		a.Assertion = func(ctx context.Context) (string, error) { return subject.Read(ctx, sub) }
	}
	if err := a.Validate(); err != nil {
		return a, fmt.Errorf("clientAuth: %w", err)
	}
	return a, nil
}

// loadPrivateKey reads a PEM private key: PKCS #8 (RSA, ECDSA, Ed25519),
// PKCS #1 RSA or SEC 1 EC.
func loadPrivateKey(path string) (crypto.Signer, error) {
	if path == "" {
		return nil, errors.New("not set: private_key_jwt needs a PEM private key file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: PEM block %q is not a private key (want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: parse %s: %w", path, block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T cannot sign", path, key)
	}
	return signer, nil
}
