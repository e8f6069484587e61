package mockidp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zitadel/oidc/v3/pkg/client"

	"github.com/fedtoken/fedtoken/mockidp"
)

func adminDo(t *testing.T, method, u, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, http.DefaultClient, req)
}

func decodeList(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.Raw), &out); err != nil {
		t.Fatalf("not a JSON list: %s", r.Raw)
	}
	return out
}

func TestAdminAPIOffByDefault(t *testing.T) {
	idp := start(t, ccConfig())
	if r := get(t, idp.BaseURL()+"/admin/issuers"); r.Status != 404 {
		t.Fatalf("admin API served without WithAdminAPI: %d", r.Status)
	}
}

func TestAdminAPI(t *testing.T) {
	ext := newExtIssuer(t, false)
	cfg := baseConfig(ext)
	cfg.Issuers = append(cfg.Issuers, mockidp.IssuerConfig{Name: "staging"})
	idp := start(t, cfg, mockidp.WithAdminAPI())
	admin := idp.BaseURL() + "/admin"
	prod := idp.IssuerURL("prod")

	t.Run("issuers", func(t *testing.T) {
		var got []mockidp.IssuerInfo
		if err := json.Unmarshal([]byte(get(t, admin+"/issuers").Raw), &got); err != nil {
			t.Fatal(err)
		}
		want := []mockidp.IssuerInfo{{Name: "prod", URL: prod, Kind: "issuer"}, {Name: "staging", URL: idp.IssuerURL("staging"), Kind: "issuer"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})

	t.Run("faults", func(t *testing.T) {
		r := adminDo(t, http.MethodPost, admin+"/faults", `{"issuer":"prod","endpoint":"token","type":"status","status":503,"count":1}`)
		if r.Status != 201 || r.Raw == "" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		r = adminDo(t, http.MethodPost, admin+"/faults", `[{"id":"slow","type":"latency","delay":"1ms"},{"type":"rate_limit","retryAfter":2,"issuer":"staging"}]`)
		var ids struct{ IDs []string }
		if err := json.Unmarshal([]byte(r.Raw), &ids); err != nil || r.Status != 201 || len(ids.IDs) != 2 || ids.IDs[0] != "slow" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		list := decodeList(t, get(t, admin+"/faults"))
		if len(list) != 3 || list[2]["retryAfter"] != "2s" {
			t.Fatalf("faults = %v", list)
		}
		if r := adminDo(t, http.MethodPost, admin+"/faults", `{"type":"status","bogus":1}`); r.Status != 400 || !strings.Contains(r.str("error"), `unknown field "bogus"`) {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := adminDo(t, http.MethodPost, admin+"/faults", `{"type":"nope"}`); r.Status != 400 || !strings.Contains(r.str("error"), `type "nope"`) {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := adminDo(t, http.MethodDelete, admin+"/faults/slow", ""); r.Status != 204 {
			t.Fatalf("%d", r.Status)
		}
		if r := adminDo(t, http.MethodDelete, admin+"/faults/slow", ""); r.Status != 404 {
			t.Fatalf("%d", r.Status)
		}
		if r := adminDo(t, http.MethodDelete, admin+"/faults", ""); r.Status != 204 || len(idp.Faults()) != 0 {
			t.Fatalf("%d %v", r.Status, idp.Faults())
		}
	})

	t.Run("live trust policy", func(t *testing.T) {
		other := newExtIssuer(t, false)
		assertion := func() string {
			return other.token(time.Now(), map[string]any{"sub": "repo:org/app:ref:refs/heads/main", "aud": "https://ci.example"})
		}
		wantOAuthError(t, bearer(t, prod, assertion()), 400, "invalid_grant", "unknown issuer")
		body := `{"issuer":"` + other.URL + `","audiences":["https://ci.example"],"subjects":["repo:org/*"]}`
		if r := adminDo(t, http.MethodPut, admin+"/issuers/prod/trust/github", body); r.Status != 204 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := bearer(t, prod, assertion()); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		list := decodeList(t, get(t, admin+"/issuers/prod/trust"))
		if len(list) != 2 || list[1]["name"] != "github" || list[1]["issuer"] != other.URL {
			t.Fatalf("trust = %v", list)
		}
		// Replacing the policy narrows the subjects at once.
		body = `{"issuer":"` + other.URL + `","audiences":["https://ci.example"],"subjects":["repo:org/other:*"]}`
		if r := adminDo(t, http.MethodPut, admin+"/issuers/prod/trust/github", body); r.Status != 204 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		wantOAuthError(t, bearer(t, prod, assertion()), 400, "invalid_grant", `not allowed by trust policy "github"`)
		if r := adminDo(t, http.MethodDelete, admin+"/issuers/prod/trust/github", ""); r.Status != 204 {
			t.Fatalf("%d", r.Status)
		}
		wantOAuthError(t, bearer(t, prod, assertion()), 400, "invalid_grant", "unknown issuer")
		if r := adminDo(t, http.MethodPut, admin+"/issuers/prod/trust/bad", `{"jwksURL":"ftp://x"}`); r.Status != 400 || !strings.Contains(r.str("error"), "issuer: is required") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := adminDo(t, http.MethodDelete, admin+"/issuers/nope/trust/x", ""); r.Status != 400 || !strings.Contains(r.str("error"), `unknown issuer "nope"`) {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})

	t.Run("live clients", func(t *testing.T) {
		if r := adminDo(t, http.MethodPut, admin+"/issuers/staging/clients/svc", `{"secret":"added-secret","audiences":["api"]}`); r.Status != 204 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		r := postForm(t, idp.IssuerURL("staging")+"/token", url.Values{"grant_type": {"client_credentials"}}, "svc:added-secret")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		list := get(t, admin+"/issuers/staging/clients")
		if !strings.Contains(list.Raw, `"[REDACTED]"`) || strings.Contains(list.Raw, "added-secret") {
			t.Fatalf("client list must redact secrets: %s", list.Raw)
		}
		if r := adminDo(t, http.MethodPut, admin+"/issuers/staging/clients/bad", `{}`); r.Status != 400 || !strings.Contains(r.str("error"), "has no credentials") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := adminDo(t, http.MethodDelete, admin+"/issuers/staging/clients/svc", ""); r.Status != 204 {
			t.Fatalf("%d", r.Status)
		}
		wantOAuthError(t, postForm(t, idp.IssuerURL("staging")+"/token", url.Values{"grant_type": {"client_credentials"}}, "svc:added-secret"), 401, "invalid_client", "unknown client")
	})

	t.Run("requests, counters, reset", func(t *testing.T) {
		if r := adminDo(t, http.MethodPost, admin+"/reset", ""); r.Status != 204 {
			t.Fatalf("%d", r.Status)
		}
		ok := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod})
		bad := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": "x"})
		for _, a := range []string{ok, ok, bad} {
			bearer(t, prod, a)
		}
		postForm(t, prod+"/token", url.Values{"grant_type": {"client_credentials"}}, "confidential:s3cret")
		var counters map[string]map[string]mockidp.Counter
		if err := json.Unmarshal([]byte(get(t, admin+"/counters").Raw), &counters); err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]mockidp.Counter{"prod": {"jwt_bearer": {OK: 2, Errors: 1}, "client_credentials": {OK: 1}}}
		if diff := cmp.Diff(want, counters); diff != "" {
			t.Fatalf("counters (-want +got):\n%s", diff)
		}
		recs := decodeList(t, get(t, admin+"/requests?grant=jwt_bearer"))
		if len(recs) != 3 || recs[2]["outcome"] != "invalid_grant" || recs[2]["check"] != "audience" {
			t.Fatalf("requests = %v", recs)
		}
		subj, _ := recs[0]["subject"].(map[string]any)
		if subj["sub"] != saSub || subj["iss"] != ext.URL {
			t.Fatalf("subject claims = %v", recs[0]["subject"])
		}
		seq := recs[1]["seq"].(float64)
		if since := decodeList(t, get(t, admin+"/requests?since="+strconv.FormatFloat(seq, 'f', -1, 64))); len(since) != 2 {
			t.Fatalf("since: %v", since)
		}
		if r := get(t, admin+"/requests?since=x"); r.Status != 400 {
			t.Fatalf("%d", r.Status)
		}
		adminDo(t, http.MethodPost, admin+"/reset", "")
		if recs := decodeList(t, get(t, admin+"/requests")); len(recs) != 0 {
			t.Fatalf("after reset: %v", recs)
		}
	})

	t.Run("unknown admin path", func(t *testing.T) {
		if r := get(t, admin+"/nope"); r.Status != 404 || !strings.Contains(r.str("error"), "no admin endpoint GET /admin/nope") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := get(t, admin+"/cluster"); r.Status != 404 || r.str("error") != "no cluster configured" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
}

// TestRequestLogHasNoSecrets runs every grant with recognisable secrets and
// checks that neither the admin API nor the request log contains any.
func TestRequestLogHasNoSecrets(t *testing.T) {
	ext := newExtIssuer(t, false)
	cfg := baseConfig(ext)
	cfg.Issuers[0].Clients = append(cfg.Issuers[0].Clients, mockidp.ClientConfig{ID: "web", Secret: "SECRET-web-123", RedirectURIs: []string{"http://127.0.0.1/cb"}})
	cfg.Issuers[0].Users = []mockidp.UserConfig{{Username: "alice", Password: "SECRET-password"}}
	cfg.Issuers[0].Login.AutoApprove = true
	cfg.Issuers[0].Device.Interval = dur(0)
	idp := start(t, cfg, mockidp.WithAdminAPI())
	prod := idp.IssuerURL("prod")
	var secrets []string
	keep := func(s ...string) {
		for _, v := range s {
			if v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	assertion := ext.token(time.Now(), map[string]any{"sub": saSub, "aud": prod})
	keep(assertion, "SECRET-web-123", "SECRET-password", "s3cret")
	r := bearer(t, prod, assertion)
	keep(r.str("access_token"))
	r = postForm(t, prod+"/token", url.Values{"grant_type": {mockidp.GrantTokenExchange}, "subject_token": {assertion}, "subject_token_type": {mockidp.TokenTypeJWT}}, "confidential:s3cret")
	keep(r.str("access_token"))
	r = postForm(t, prod+"/token", url.Values{"grant_type": {"client_credentials"}, "client_assertion": {assertion},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}, "")
	keep(r.str("access_token"))
	loc := location(t, getNoRedirect(t, prod+"/authorize?"+url.Values{"client_id": {"web"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1/cb"}}.Encode()))
	code := loc.Query().Get("code")
	keep(code)
	r = postForm(t, prod+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/cb"}}, "web:SECRET-web-123")
	keep(r.str("access_token"), r.str("refresh_token"), r.str("id_token"))
	r2 := postForm(t, prod+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}, "web:SECRET-web-123")
	keep(r2.str("access_token"), r2.str("refresh_token"))
	da := postForm(t, prod+"/device_authorization", url.Values{"client_id": {"runner"}}, "")
	keep(da.str("device_code"))
	r = postForm(t, prod+"/token", url.Values{"grant_type": {mockidp.GrantDeviceCode}, "device_code": {da.str("device_code")}, "client_id": {"runner"}}, "")
	keep(r.str("access_token"), r.str("refresh_token"))
	postForm(t, prod+"/token", url.Values{"grant_type": {"client_credentials"}}, "confidential:SECRET-wrong")
	keep("SECRET-wrong")
	req, _ := http.NewRequest(http.MethodGet, prod+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+r.str("access_token"))
	do(t, http.DefaultClient, req)
	postForm(t, prod+"/introspect", url.Values{"token": {r.str("access_token")}}, "web:SECRET-web-123")
	postForm(t, prod+"/revoke", url.Values{"token": {r.str("refresh_token")}, "client_id": {"runner"}}, "")

	dump := get(t, idp.BaseURL()+"/admin/requests").Raw
	b, _ := json.Marshal(idp.Requests())
	if len(idp.Requests()) < 12 {
		t.Fatalf("only %d requests logged", len(idp.Requests()))
	}
	for _, s := range secrets {
		for name, text := range map[string]string{"admin API": dump, "Requests()": string(b)} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%d chars, starts %.6s…)", name, len(s), s)
			}
		}
	}
}

func TestMetadata(t *testing.T) {
	idp := start(t, ccConfig(), mockidp.WithCluster(mockidp.ClusterConfig{}))
	prod := idp.IssuerURL("prod")
	for _, p := range []string{"/prod/.well-known/openid-configuration", "/.well-known/openid-configuration/prod", "/.well-known/oauth-authorization-server/prod"} {
		r := get(t, idp.BaseURL()+p)
		if r.Status != 200 || r.str("issuer") != prod || r.str("token_endpoint") != prod+"/token" ||
			r.str("device_authorization_endpoint") != prod+"/device_authorization" || r.str("jwks_uri") != prod+"/keys" {
			t.Fatalf("%s: %d %s", p, r.Status, r.Raw)
		}
		if !strings.Contains(r.Raw, `"urn:ietf:params:oauth:grant-type:token-exchange"`) || !strings.Contains(r.Raw, `"S256"`) {
			t.Fatalf("%s: grant types or PKCE missing: %s", p, r.Raw)
		}
	}
	disco, err := client.Discover(context.Background(), prod, http.DefaultClient)
	if err != nil || disco.IntrospectionEndpoint != prod+"/introspect" || disco.RevocationEndpoint != prod+"/revoke" || disco.UserinfoEndpoint != prod+"/userinfo" {
		t.Fatalf("zitadel Discover: %v %+v", err, disco)
	}
	for _, p := range []string{"/.well-known/oauth-authorization-server/nope", "/.well-known/openid-configuration/nope", "/nope/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/cluster"} {
		if r := get(t, idp.BaseURL()+p); r.Status != 404 {
			t.Fatalf("%s: %d %s", p, r.Status, r.Raw)
		}
	}
	cl := get(t, idp.BaseURL()+"/cluster/.well-known/openid-configuration")
	if cl.Status != 200 || cl.str("issuer") != idp.IssuerURL("cluster") || cl.str("jwks_uri") != idp.IssuerURL("cluster")+"/openid/v1/jwks" {
		t.Fatalf("cluster discovery: %d %s", cl.Status, cl.Raw)
	}
	if keys := get(t, idp.IssuerURL("cluster")+"/openid/v1/jwks"); keys.Status != 200 || !strings.Contains(keys.Raw, `"RS256"`) {
		t.Fatalf("cluster JWKS: %d %s", keys.Status, keys.Raw)
	}
	for _, p := range []string{"/healthz", "/prod/healthz", "/prod/ready"} {
		if r := get(t, idp.BaseURL()+p); r.Status != 200 || r.str("status") != "ok" {
			t.Fatalf("%s: %d %s", p, r.Status, r.Raw)
		}
	}
	keys := get(t, prod+"/keys")
	if ks, _ := keys.Body["keys"].([]any); keys.Status != 200 || len(ks) != 1 || strings.Contains(keys.Raw, `"d"`) {
		t.Fatalf("JWKS must have one public key: %s", keys.Raw)
	}
}
