package subject

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed clock of every expiry check in these tests.
var testNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// testSignature is a recognisable signature segment: no error may ever
// contain it.
var testSignature = base64.RawURLEncoding.EncodeToString([]byte("secret-signature-that-must-never-be-printed"))

// testJWT builds a compact JWS with the given claims JSON (unsigned in
// substance: only decoding is exercised here).
func testJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"test","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "." + testSignature
}

// jwtExpiring returns a projected-token-like JWT with the given exp.
func jwtExpiring(exp time.Time) string {
	return testJWT(fmt.Sprintf(`{"aud":["https://idp.example"],"exp":%d,"iat":%d,"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:ai:agent"}`,
		exp.Unix(), exp.Add(-time.Hour).Unix()))
}

var (
	freshJWT   = jwtExpiring(testNow.Add(50 * time.Minute))
	expiredJWT = jwtExpiring(testNow.Add(-5 * time.Minute))
	// opaqueToken is not a JWT; long enough that finding it in a message
	// cannot be a coincidence.
	opaqueToken = "opaque-subject-token-0123456789"
)

// assertNoSecret fails if the error message contains any of the secrets,
// or any dot-separated part of them longer than 8 bytes.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range append(secrets, testSignature) {
		for _, part := range append(strings.Split(s, "."), s) {
			if len(part) >= 8 && strings.Contains(msg, part) {
				t.Errorf("error %q contains a secret (%q…)", msg, part[:8])
			}
		}
	}
}

// assertErr checks an error against expected substrings and sentinel.
func assertErr(t *testing.T, err error, wantIs error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
	if wantIs != nil && !errors.Is(err, wantIs) {
		t.Errorf("errors.Is(%q, %v) = false", err, wantIs)
	}
}
