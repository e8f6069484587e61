package jwt

import (
	"errors"
	"strings"
	"testing"
)

// maxErrorLen bounds every Decode error message. An error longer than
// the longest fixed message would be quoting its input.
const maxErrorLen = 120

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		token(rs256, `{"aud":["https://idp"],"exp":1798279200,"iat":1798275600,"sub":"system:serviceaccount:ns:sa"}`),
		token(`{"alg":"ES256"}`, `{"aud":"x","exp":1798279200.5}`),
		token(rs256, `{"exp":"soon"}`),
		token(rs256, `{"aud":[1]}`),
		token(rs256, `[]`),
		seg(`{"alg":"none"}`) + "." + seg(`{}`) + ".",
		"a.b.c.d.e",
		"opaque",
		"..",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		h, c, err := Decode(tok)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not match ErrMalformed: %v", err)
			}
			msg := err.Error()
			if len(msg) > maxErrorLen {
				t.Fatalf("error is %d bytes long (over %d), it may quote the token: %q", len(msg), maxErrorLen, msg)
			}
			if len(tok) >= 24 && strings.Contains(msg, tok) {
				t.Fatalf("error %q contains the token", msg)
			}
			if h != (Header{}) || c.Raw != nil {
				t.Fatalf("Decode returned data along with an error")
			}
			return
		}
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("Decode accepted %d segments", strings.Count(tok, ".")+1)
		}
		if c.Raw == nil {
			t.Fatal("Raw is nil after a successful Decode")
		}
		for name, present := range map[string]bool{"exp": !c.ExpiresAt.IsZero(), "iat": !c.IssuedAt.IsZero(), "nbf": !c.NotBefore.IsZero()} {
			if present != (c.Raw[name] != nil) {
				t.Fatalf("claim %s: decoded presence %v disagrees with Raw %v", name, present, c.Raw[name])
			}
		}
		if _, ok := c.Raw["iss"].(string); ok != (c.Raw["iss"] != nil) {
			t.Fatalf("iss of type %T accepted", c.Raw["iss"])
		}
		if s, ok := c.Raw["sub"].(string); ok && s != c.Subject {
			t.Fatalf("Subject %q != Raw sub %q", c.Subject, s)
		}
		// Helpers must never panic on decoded values.
		_ = c.Lifetime()
		_ = c.RotationTime()
		_ = c.ExpiresIn(c.IssuedAt)
		_ = c.ExpiresAt.Format("2006-01-02T15:04:05Z07:00")
	})
}
