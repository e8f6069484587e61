package grant

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// renderRequest writes a request deterministically: method and path, the
// headers that matter, then the form one encoded pair per line, sorted. A
// private_key_jwt assertion (random jti, current time) is verified with
// key and replaced by a description of its header and claims.
func renderRequest(t *testing.T, r stubidp.Request, idpURL string, key *ecdsa.PublicKey) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.Path)
	for _, h := range []string{"Accept", "Authorization", "Content-Type"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		if cred, ok := strings.CutPrefix(v, "Basic "); ok {
			raw, err := base64.StdEncoding.DecodeString(cred)
			if err != nil {
				t.Fatalf("Basic credentials are not base64: %v", err)
			}
			v = "Basic base64(" + string(raw) + ")"
		}
		fmt.Fprintf(&b, "%s: %s\n", h, v)
	}
	b.WriteString("\n")
	keys := make([]string, 0, len(r.Form))
	for k := range r.Form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range r.Form[k] {
			if k == "client_assertion" && key != nil {
				fmt.Fprintf(&b, "%s=%s\n", k, describeAssertion(t, v, key))
				continue
			}
			if k == "assertion" && signedES256(v) {
				// jwt_bearer_key's assertion, signed with testAssertionKey.
				fmt.Fprintf(&b, "%s=%s\n", k, describeAssertion(t, v, &testAssertionKey().PublicKey))
				continue
			}
			fmt.Fprintf(&b, "%s=%s\n", url.QueryEscape(k), url.QueryEscape(v))
		}
	}
	return strings.ReplaceAll(b.String(), idpURL, "{{IDP}}")
}

// describeAssertion verifies an ES256 client assertion and describes it
// without its time-dependent and random parts.
func describeAssertion(t *testing.T, tok string, key *ecdsa.PublicKey) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("client_assertion has %d segments", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("client_assertion signature: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("client_assertion signature does not verify")
	}
	var hdr, claims map[string]any
	for i, v := range []*map[string]any{&hdr, &claims} {
		raw, _ := base64.RawURLEncoding.DecodeString(parts[i])
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("client_assertion segment %d: %v", i, err)
		}
	}
	jti, _ := claims["jti"].(string)
	lifetime := claims["exp"].(float64) - claims["iat"].(float64)
	return fmt.Sprintf("<signed alg=%v kid=%v typ=%v iss=%v sub=%v aud=%v lifetime=%.0fs jti=%d-char-random>",
		hdr["alg"], hdr["kid"], hdr["typ"], claims["iss"], claims["sub"], claims["aud"], lifetime, len(jti))
}

// checkGolden compares got with testdata/name.golden (or rewrites it with -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("request differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestGoldenRequests pins the exact request of every grant with every
// client authentication method.
func TestGoldenRequests(t *testing.T) {
	for _, g := range grantCases() {
		for _, a := range authVariants(t) {
			t.Run(g.name+"/"+a.name, func(t *testing.T) {
				s := newIdP(t, stubidp.Reply{Status: 200, Body: okBody})
				acquire := g.build(Endpoint{TokenURL: s.TokenURL()}, testOAuthClient(s), a.auth)
				if _, err := acquire(context.Background()); err != nil {
					t.Fatalf("acquire: %v", err)
				}
				reqs := s.Requests()
				if len(reqs) != 1 {
					t.Fatalf("requests = %d, want 1", len(reqs))
				}
				checkGolden(t, g.name+"_"+a.name, renderRequest(t, reqs[0], s.URL(), publicKey(a.auth)))
			})
		}
	}
}

// TestGoldenTokenExchangeVariants pins the IdP-specific token exchange shapes.
func TestGoldenTokenExchangeVariants(t *testing.T) {
	basic := oauth.ClientAuth{ClientID: "exchanger", ClientSecret: "exchanger-secret"}
	tests := []struct {
		name string
		g    TokenExchange
	}{
		{
			// idp-wire.md §A: Dex needs connector_id and the id_token subject type.
			name: "token_exchange_dex",
			g: TokenExchange{Auth: basic, SubjectTokenType: TokenTypeIDToken, Scopes: []string{"openid", "profile"},
				Params: url.Values{"connector_id": {"kubernetes"}}},
		},
		{
			name: "token_exchange_all_parameters",
			g: TokenExchange{
				Auth:               oauth.ClientAuth{Method: oauth.AuthClientSecretPost, ClientID: "exchanger", ClientSecret: "exchanger-secret"},
				Actor:              newFakeSource("actor", testActorJWT),
				ActorTokenType:     TokenTypeAccessToken,
				RequestedTokenType: TokenTypeAccessToken,
				Audience:           []string{"https://llm.example", "https://other.example"},
				Resource:           []string{"https://llm.example/v1", "https://llm.example/v2"},
				Scopes:             []string{"openid", "llm:invoke"},
				Params:             url.Values{"x-tenant": {"a b"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t, stubidp.Reply{Status: 200, Body: `{"access_token":"a","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"bearer","expires_in":86399}`})
			g := tt.g
			g.Endpoint = Endpoint{TokenURL: s.TokenURL()}
			g.Client = testOAuthClient(s)
			g.Subject = newFakeSource("subject", testSubjectJWT)
			tok, err := g.TokenContext(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Extra("issued_token_type") != TokenTypeAccessToken {
				t.Errorf("token type %q, issued_token_type %v", tok.TokenType, tok.Extra("issued_token_type"))
			}
			checkGolden(t, tt.name, renderRequest(t, s.Requests()[0], s.URL(), nil))
		})
	}
}

func publicKey(a oauth.ClientAuth) *ecdsa.PublicKey {
	if k, ok := a.PrivateKey.(*ecdsa.PrivateKey); ok {
		return &k.PublicKey
	}
	return nil
}
