package mockidp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/fedtoken/fedtoken/mockidp"
)

const saSub = "system:serviceaccount:ai-jobs:runner"

// caller is a zitadel client.TokenEndpointCaller.
type caller struct{ url string }

func (c caller) TokenEndpoint() string    { return c.url }
func (c caller) HttpClient() *http.Client { return http.DefaultClient }

// baseConfig has one issuer "prod" that trusts ext for ai-jobs service
// accounts, with a client of each kind.
func baseConfig(ext *extIssuer) mockidp.Config {
	return mockidp.Config{Issuers: []mockidp.IssuerConfig{{
		Name: "prod",
		Clients: []mockidp.ClientConfig{
			{ID: "runner", Public: true},
			{ID: "confidential", Secret: "s3cret", Audiences: []string{"https://llm.example"}},
			{ID: "basic-only", Secret: "b", AuthMethods: []string{mockidp.AuthClientSecretBasic}},
			{ID: "post-only", Secret: "p", AuthMethods: []string{mockidp.AuthClientSecretPost}},
			{ID: "no-bearer", Secret: "n", Grants: []string{"client_credentials"}},
			{ID: "workload", Federated: &mockidp.FederatedConfig{Trust: "ext", Subject: saSub}},
			{ID: "other-workload", Federated: &mockidp.FederatedConfig{Trust: "ext", Subject: "system:serviceaccount:ai-jobs:other"}},
		},
		Trust: []mockidp.TrustConfig{{Name: "ext", Issuer: ext.URL, Subjects: []string{"system:serviceaccount:ai-jobs:*"}}},
	}}}
}

func wantOAuthError(t *testing.T, r response, status int, code, descPart string) {
	t.Helper()
	if r.Status != status || r.str("error") != code || !strings.Contains(r.str("error_description"), descPart) {
		t.Fatalf("got %d %s %q, want %d %s containing %q", r.Status, r.str("error"), r.str("error_description"), status, code, descPart)
	}
}

func TestJWTBearerWithZitadelClient(t *testing.T) {
	ext := newExtIssuer(t, false)
	idp := start(t, baseConfig(ext))
	prod := idp.IssuerURL("prod")
	assertion := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod})
	tok, err := client.JWTProfileExchange(context.Background(), oidc.NewJWTProfileGrantRequest(assertion, "openid", "llm"), caller{prod + "/token"})
	if err != nil {
		t.Fatalf("JWTProfileExchange: %v", err)
	}
	c := verifyIssued(t, prod, tok.AccessToken)
	if c["sub"] != saSub || c["scope"] != "openid llm" || c["client_id"] != nil {
		t.Fatalf("claims = %v", c)
	}
	if diff := cmp.Diff([]any{prod}, c["aud"]); diff != "" {
		t.Fatalf("aud without a client (-want +got):\n%s", diff)
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 300 {
		t.Fatalf("lifetime = %vs, want the default 300s", exp-iat)
	}
	if c["jti"] == "" || c["jti"] == nil {
		t.Fatal("no jti")
	}
	jws, _ := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	if typ := jws.Signatures[0].Header.ExtraHeaders["typ"]; typ != "at+jwt" {
		t.Fatalf("typ = %v, want at+jwt", typ)
	}
	if tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 4*time.Minute {
		t.Fatalf("token = %+v", tok)
	}
}

func TestJWTBearerClientAuthentication(t *testing.T) {
	ext := newExtIssuer(t, false)
	idp := start(t, baseConfig(ext))
	prod := idp.IssuerURL("prod")
	tokenURL := prod + "/token"
	form := func(extra ...string) url.Values {
		v := url.Values{
			"grant_type": {mockidp.GrantJWTBearer},
			"assertion":  {ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod})},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	t.Run("public client by client_id", func(t *testing.T) {
		r := postForm(t, tokenURL, form("client_id", "runner"), "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		c := verifyIssued(t, prod, r.str("access_token"))
		if c["client_id"] != "runner" || !slices.Equal(toStrings(c["aud"]), []string{"runner"}) {
			t.Fatalf("claims = %v", c)
		}
	})
	t.Run("confidential client with basic", func(t *testing.T) {
		r := postForm(t, tokenURL, form(), "confidential:s3cret")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		c := claimsOf(t, r.str("access_token"))
		if c["client_id"] != "confidential" || !slices.Equal(toStrings(c["aud"]), []string{"https://llm.example"}) {
			t.Fatalf("claims = %v", c)
		}
	})
	tests := []struct {
		name         string
		form         url.Values
		basic        string
		status       int
		code, detail string
	}{
		{"unknown client", form("client_id", "nobody"), "", 401, "invalid_client", `unknown client "nobody"`},
		{"confidential without secret", form("client_id", "confidential"), "", 401, "invalid_client", `client "confidential" is confidential`},
		{"wrong secret", form(), "confidential:nope", 401, "invalid_client", `client secret does not match for client "confidential"`},
		{"grant not allowed", form(), "no-bearer:n", 400, "unauthorized_client", `may not use grant jwt_bearer`},
		{"basic-only client posting its secret", form("client_id", "basic-only", "client_secret", "b"), "", 401, "invalid_client", "may not use client_secret_post"},
		{"post-only client using basic", form(), "post-only:p", 401, "invalid_client", "may not use client_secret_basic"},
		{"two auth methods", form("client_secret", "x"), "confidential:s3cret", 400, "invalid_request", "more than one method"},
		{"assertion missing", url.Values{"grant_type": {mockidp.GrantJWTBearer}}, "", 400, "invalid_request", "assertion missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOAuthError(t, postForm(t, tokenURL, tt.form, tt.basic), tt.status, tt.code, tt.detail)
		})
	}
	t.Run("secret never echoed", func(t *testing.T) {
		r := postForm(t, tokenURL, form(), "confidential:hunter2-secret")
		if strings.Contains(r.Raw, "hunter2") {
			t.Fatalf("response leaks the secret: %s", r.Raw)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	switch a := v.(type) {
	case string:
		out = append(out, a)
	case []any:
		for _, x := range a {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

func TestTokenExchangeWithZitadelClient(t *testing.T) {
	ext := newExtIssuer(t, false)
	idp := start(t, baseConfig(ext))
	prod := idp.IssuerURL("prod")
	ctx := context.Background()
	te, err := tokenexchange.NewTokenExchangerClientCredentials(ctx, prod, "confidential", "s3cret")
	if err != nil {
		t.Fatalf("NewTokenExchangerClientCredentials (discovery): %v", err)
	}
	subject := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod})
	actor := ext.token(time.Now(), map[string]any{"sub": "system:serviceaccount:ai-jobs:agent", "aud": prod})

	for _, typ := range []oidc.TokenType{oidc.JWTTokenType, oidc.IDTokenType, oidc.AccessTokenType} {
		t.Run("subject_token_type "+string(typ), func(t *testing.T) {
			resp, err := tokenexchange.ExchangeToken(ctx, te, subject, typ, "", "", nil, nil, []string{"llm"}, "")
			if err != nil {
				t.Fatalf("ExchangeToken: %v", err)
			}
			if resp.IssuedTokenType != oidc.AccessTokenType || resp.TokenType != "Bearer" || resp.ExpiresIn != 300 {
				t.Fatalf("response = %+v", resp)
			}
			c := verifyIssued(t, prod, resp.AccessToken)
			want := map[string]any{"sub": saSub, "client_id": "confidential", "scope": "llm", "aud": []any{"https://llm.example"}}
			for k, v := range want {
				if diff := cmp.Diff(v, c[k]); diff != "" {
					t.Errorf("claim %s (-want +got):\n%s", k, diff)
				}
			}
		})
	}

	t.Run("audience, resource and actor", func(t *testing.T) {
		resp, err := tokenexchange.ExchangeToken(ctx, te, subject, oidc.JWTTokenType, actor, oidc.JWTTokenType,
			[]string{"https://api.example/v1"}, []string{"gateway"}, nil, oidc.JWTTokenType)
		if err != nil {
			t.Fatalf("ExchangeToken: %v", err)
		}
		if resp.IssuedTokenType != oidc.JWTTokenType {
			t.Fatalf("issued_token_type = %s", resp.IssuedTokenType)
		}
		c := verifyIssued(t, prod, resp.AccessToken)
		if diff := cmp.Diff([]any{"gateway", "https://api.example/v1"}, c["aud"]); diff != "" {
			t.Errorf("aud (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]any{"sub": "system:serviceaccount:ai-jobs:agent", "iss": ext.URL}, c["act"]); diff != "" {
			t.Errorf("act (-want +got):\n%s", diff)
		}

		// The issued token can itself be the subject of a new exchange with
		// another actor: the first actor nests under the new one.
		resp2, err := tokenexchange.ExchangeToken(ctx, te, resp.AccessToken, oidc.AccessTokenType, actor, oidc.JWTTokenType, nil, nil, nil, "")
		if err != nil {
			t.Fatalf("second ExchangeToken: %v", err)
		}
		c2 := verifyIssued(t, prod, resp2.AccessToken)
		wantAct := map[string]any{"sub": "system:serviceaccount:ai-jobs:agent", "iss": ext.URL,
			"act": map[string]any{"sub": "system:serviceaccount:ai-jobs:agent", "iss": ext.URL}}
		if diff := cmp.Diff(wantAct, c2["act"]); diff != "" {
			t.Errorf("nested act (-want +got):\n%s", diff)
		}
		if c2["sub"] != saSub {
			t.Errorf("sub = %v", c2["sub"])
		}
	})

	t.Run("requested id_token", func(t *testing.T) {
		resp, err := tokenexchange.ExchangeToken(ctx, te, subject, oidc.JWTTokenType, "", "", nil, nil, nil, oidc.IDTokenType)
		if err != nil {
			t.Fatalf("ExchangeToken: %v", err)
		}
		if resp.TokenType != "N_A" || resp.IssuedTokenType != oidc.IDTokenType {
			t.Fatalf("response = %+v", resp)
		}
		c := verifyIssued(t, prod, resp.AccessToken)
		if c["sub"] != saSub || c["azp"] != "confidential" {
			t.Fatalf("id token claims = %v", c)
		}
	})

	tokenURL := prod + "/token"
	exchange := func(extra ...string) url.Values {
		v := url.Values{
			"grant_type":         {mockidp.GrantTokenExchange},
			"subject_token":      {subject},
			"subject_token_type": {mockidp.TokenTypeJWT},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	t.Run("public client with form client_id", func(t *testing.T) {
		r := postForm(t, tokenURL, exchange("client_id", "runner"), "")
		if r.Status != 200 || claimsOf(t, r.str("access_token"))["client_id"] != "runner" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		r := postForm(t, tokenURL, exchange("client_id", "confidential", "client_secret", "s3cret"), "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	errs := []struct {
		name         string
		form         url.Values
		code, detail string
	}{
		{"refresh_token subject", exchange("subject_token_type", mockidp.TokenTypeRefreshToken), "invalid_request", "subject_token_type urn:ietf:params:oauth:token-type:refresh_token is not supported"},
		{"requested refresh_token", exchange("requested_token_type", mockidp.TokenTypeRefreshToken), "invalid_request", "requested_token_type"},
		{"actor without type", exchange("actor_token", actor), "invalid_request", "actor_token_type missing"},
		{"bad actor", exchange("actor_token", "x.y", "actor_token_type", mockidp.TokenTypeJWT), "invalid_grant", "actor_token: not a JWT: 2 segments"},
		{"unknown subject_token_type", exchange("subject_token_type", "urn:x"), "invalid_request", "subject_token_type is not supported"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			wantOAuthError(t, postForm(t, tokenURL, tt.form, "confidential:s3cret"), 400, tt.code, tt.detail)
		})
	}
}

func TestTokenExchangeSubjectErrorCode(t *testing.T) {
	ext := newExtIssuer(t, false)
	cfg := baseConfig(ext)
	cfg.Issuers[0].SubjectTokenError = "invalid_request"
	idp := start(t, cfg)
	prod := idp.IssuerURL("prod")
	bad := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": "https://elsewhere"})
	r := postForm(t, prod+"/token", url.Values{
		"grant_type": {mockidp.GrantTokenExchange}, "subject_token": {bad}, "subject_token_type": {mockidp.TokenTypeJWT}, "client_id": {"runner"},
	}, "")
	wantOAuthError(t, r, 400, "invalid_request", "subject_token: audience [https://elsewhere] not in allowed")
}

func TestClientCredentials(t *testing.T) {
	ext := newExtIssuer(t, false)
	cfg := baseConfig(ext)
	key := testKeys()[7]
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuers[0].Clients = append(cfg.Issuers[0].Clients, mockidp.ClientConfig{ID: "signer", JWKS: pub, Scopes: []string{"llm"}})
	idp := start(t, cfg)
	prod := idp.IssuerURL("prod")
	tokenURL := prod + "/token"
	cc := func(extra ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	ok := func(t *testing.T, r response, clientID string) map[string]any {
		t.Helper()
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		c := verifyIssued(t, prod, r.str("access_token"))
		if c["sub"] != clientID || c["client_id"] != clientID {
			t.Fatalf("claims = %v", c)
		}
		return c
	}
	t.Run("client_secret_basic", func(t *testing.T) {
		ok(t, postForm(t, tokenURL, cc("scope", "a b"), "confidential:s3cret"), "confidential")
	})
	t.Run("client_secret_post", func(t *testing.T) {
		ok(t, postForm(t, tokenURL, cc("client_id", "confidential", "client_secret", "s3cret"), ""), "confidential")
	})
	t.Run("private_key_jwt with zitadel's assertion", func(t *testing.T) {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertion, err := client.SignedJWTProfileAssertion("signer", []string{prod}, time.Minute, signer)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := client.CallTokenEndpointWithAuthFn(context.Background(),
			&oidc.ClientCredentialsRequest{GrantType: oidc.GrantTypeClientCredentials, Scope: []string{"llm"}},
			client.ClientAssertionFormAuthorization(assertion), caller{tokenURL})
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		if c := verifyIssued(t, prod, tok.AccessToken); c["sub"] != "signer" || c["scope"] != "llm" {
			t.Fatalf("claims = %v", c)
		}
		// The same assertion again is a replay.
		r := postForm(t, tokenURL, cc("client_assertion", assertion, "client_assertion_type", oidc.ClientAssertionTypeJWTAssertion), "")
		wantOAuthError(t, r, 401, "invalid_client", "was already used")
		if last := lastRecord(t, idp, "token"); last.Check != "jti" || last.Outcome != "invalid_client" {
			t.Fatalf("log = %+v", last)
		}
	})
	pkj := func(claims map[string]any, kid string) string {
		base := map[string]any{"iss": "signer", "sub": "signer", "aud": tokenURL, "exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix()}
		for k, v := range claims {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		return signJWT(t, jose.JSONWebKey{Key: key, KeyID: kid}, base)
	}
	assertionForm := func(a string, extra ...string) url.Values {
		return cc(append([]string{"client_assertion", a, "client_assertion_type", oidc.ClientAssertionTypeJWTAssertion}, extra...)...)
	}
	t.Run("private_key_jwt errors", func(t *testing.T) {
		cases := []struct{ name, assertion, detail string }{
			{"sub differs", pkj(map[string]any{"sub": "x"}, "k1"), `iss "signer" and sub "x" must both be the client_id`},
			{"expired", pkj(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}, "k1"), "token expired at"},
			{"wrong audience", pkj(map[string]any{"aud": "https://other"}, "k1"), "audience [https://other] must contain the issuer"},
			{"unknown kid", pkj(nil, "k2"), `no key with kid "k2" in the registered keys of client "signer"`},
			{"wrong key", signJWT(t, jose.JSONWebKey{Key: testKeys()[6], KeyID: "k1"}, claimsOf(t, pkj(nil, "k1"))), "signature does not verify"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantOAuthError(t, postForm(t, tokenURL, assertionForm(tc.assertion), ""), 401, "invalid_client", tc.detail)
			})
		}
		wantOAuthError(t, postForm(t, tokenURL, assertionForm(pkj(nil, "k1"), "client_id", "other"), ""), 401, "invalid_client", `client_id "other" does not match`)
		wantOAuthError(t, postForm(t, tokenURL, assertionForm(pkj(map[string]any{"iss": "nobody", "sub": "nobody"}, "k1")), ""), 401, "invalid_client",
			`issuer "nobody" is neither a trust policy`)
	})
	t.Run("scope not allowed", func(t *testing.T) {
		r := postForm(t, tokenURL, assertionForm(pkj(map[string]any{"jti": "s1"}, "k1"), "scope", "admin"), "")
		wantOAuthError(t, r, 400, "invalid_scope", `scope "admin" is not allowed for client "signer"`)
	})

	sa := func(sub, aud string) string {
		return ext.token(time.Now(), map[string]any{"sub": sub, "aud": aud})
	}
	t.Run("federated without client_id", func(t *testing.T) {
		r := postForm(t, tokenURL, assertionForm(sa(saSub, prod)), "")
		ok(t, r, "workload")
		last := lastRecord(t, idp, "token")
		if last.AuthMethod != mockidp.AuthFederated || last.ClientID != "workload" || last.Subject["sub"] != saSub {
			t.Fatalf("log = %+v", last)
		}
	})
	t.Run("federated with matching client_id", func(t *testing.T) {
		ok(t, postForm(t, tokenURL, assertionForm(sa(saSub, tokenURL), "client_id", "workload"), ""), "workload")
	})
	t.Run("federated errors", func(t *testing.T) {
		cases := []struct {
			name   string
			form   url.Values
			detail string
		}{
			{"client_id of another bound client", assertionForm(sa(saSub, prod), "client_id", "other-workload"),
				`subject "system:serviceaccount:ai-jobs:runner" from trust policy "ext" is not bound to client "other-workload" (it expects subject "system:serviceaccount:ai-jobs:other"`},
			{"client_id of a secret client", assertionForm(sa(saSub, prod), "client_id", "confidential"), `client "confidential" does not accept federated client assertions`},
			{"unbound subject", assertionForm(sa("system:serviceaccount:ai-jobs:stranger", prod)), `no client is bound to subject "system:serviceaccount:ai-jobs:stranger"`},
			{"subject outside the policy", assertionForm(sa("system:serviceaccount:kube-system:x", prod)), `subject "system:serviceaccount:kube-system:x" not allowed by trust policy "ext"`},
			{"audience", assertionForm(sa(saSub, "https://wrong")), "client_assertion: audience [https://wrong] not in allowed"},
			{"not a JWT", assertionForm("nope"), "client_assertion: not a JWT: 1 segments"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantOAuthError(t, postForm(t, tokenURL, tc.form, ""), 401, "invalid_client", tc.detail)
			})
		}
	})
	t.Run("public client refused", func(t *testing.T) {
		wantOAuthError(t, postForm(t, tokenURL, cc("client_id", "runner"), ""), 400, "unauthorized_client", "client_credentials")
	})
	t.Run("wrong assertion type", func(t *testing.T) {
		r := postForm(t, tokenURL, cc("client_assertion", sa(saSub, prod), "client_assertion_type", "urn:x"), "")
		wantOAuthError(t, r, 400, "invalid_request", "invalid client_assertion_type")
	})
}
