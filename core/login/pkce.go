package login

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"

	"golang.org/x/oauth2"
)

// pkce is a PKCE (RFC 7636) verifier and its S256 challenge.
type pkce struct {
	verifier string
}

func newPKCE() pkce { return pkce{verifier: oauth2.GenerateVerifier()} }

// challenge adds code_challenge and code_challenge_method=S256 to form.
func (p pkce) challenge(form url.Values) {
	if p.verifier == "" {
		return
	}
	form.Set("code_challenge", oauth2.S256ChallengeFromVerifier(p.verifier))
	form.Set("code_challenge_method", "S256")
}

// verify adds code_verifier to a token request.
func (p pkce) verify(form url.Values) {
	if p.verifier != "" {
		form.Set("code_verifier", p.verifier)
	}
}

// randomState returns 32 random bytes, base64url: the anti-CSRF state.
func randomState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}
