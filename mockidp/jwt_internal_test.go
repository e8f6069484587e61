package mockidp

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"system:serviceaccount:ai-jobs:*", "system:serviceaccount:ai-jobs:runner", true},
		{"system:serviceaccount:ai-jobs:*", "system:serviceaccount:ai-jobs:", true},
		{"system:serviceaccount:ai-jobs:*", "system:serviceaccount:ai-jobs-2:runner", false},
		{"repo:org/*:ref:refs/heads/main", "repo:org/app:ref:refs/heads/main", true},
		{"repo:org/*:ref:refs/heads/main", "repo:org/app:ref:refs/heads/dev", false},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"**", "x", true},
	}
	for _, c := range cases {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func jwtWith(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc([]byte(claims)) + ".sig"
}

func TestParseJWT(t *testing.T) {
	tok, err := parseJWT(jwtWith(`{"iss":"i","sub":"s","aud":["a","b"],"exp":1700000000.5,"iat":1700000000,"jti":"j"}`))
	if err != nil {
		t.Fatal(err)
	}
	if tok.iss != "i" || tok.sub != "s" || len(tok.aud) != 2 || tok.kid != "k" || tok.alg != "RS256" || tok.jti != "j" {
		t.Fatalf("%+v", tok)
	}
	if !tok.exp.Equal(time.Unix(1700000000, 5e8)) || !tok.nbf.IsZero() {
		t.Fatalf("exp %v nbf %v", tok.exp, tok.nbf)
	}
	if tok, _ := parseJWT(jwtWith(`{"aud":"one"}`)); len(tok.aud) != 1 || tok.aud[0] != "one" {
		t.Fatalf("string aud: %+v", tok)
	}
	bad := []struct{ tok, want string }{
		{"a.b", "not a JWT: 2 segments, want 3"},
		{"!!!.e30.x", "header is not base64url-encoded JSON"},
		{jwtWith(`[1]`), "claims are not a JSON object"},
		{jwtWith(`{"aud":5}`), "aud claim is neither a string nor an array of strings"},
		{jwtWith(`{"aud":["a",1]}`), "aud claim is neither"},
		{jwtWith(`{"iat":"x"}`), "iat claim is not a number"},
		{jwtWith(`{"sub":1}`), "sub claim is not a string"},
	}
	for _, b := range bad {
		_, err := parseJWT(b.tok)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("parseJWT(%q) = %v, want %q", b.tok, err, b.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("https://user:pw@host/p?token=x#f"); got != "https://host/p" {
		t.Fatalf("redactURL = %q", got)
	}
}
