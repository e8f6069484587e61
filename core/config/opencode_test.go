package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

func TestOpenCodePluginConfig(t *testing.T) {
	f := mustLoad(t, "testdata/opencode/plugin-config.jsonc")
	want := []Provider{
		{
			ID:                 "ci",
			Name:               "CI (GitHub)",
			BaseURL:            "https://llm.example.com/v1",
			Issuer:             "https://sso.example.com",
			ClientID:           "ci",
			Scopes:             []string{"openid"},
			AuthFlow:           FlowTokenExchange,
			ClientAuth:         ClientAuth{OmitClientID: new(false)},
			SubjectTokenSource: &SubjectSource{Type: subject.TypeGitHubActions, Audience: "https://sso.example.com"},
			TokenExchange:      TokenExchange{SubjectTokenType: grant.TokenTypeJWT, Audience: []string{"llm-gateway"}},
			PKCE:               new(true),
			ResponseAPI:        true,
			HTTPTimeout:        5 * time.Second,
			TokenExpirySkew:    time.Minute,
		},
		{
			ID:              "corp",
			Name:            "Corp gateway",
			BaseURL:         "https://llm.example.com/v1",
			Issuer:          "https://sso.example.com",
			ClientID:        "laptop",
			Scopes:          []string{"openid", "profile", "offline_access"},
			AuthFlow:        FlowDeviceCode,
			ClientAuth:      ClientAuth{OmitClientID: new(false)},
			PKCE:            new(false),
			SyncInterval:    30 * time.Minute,
			NameOverrides:   map[string]string{"gpt-x": "GPT X"},
			HTTPTimeout:     5 * time.Second,
			TokenExpirySkew: time.Minute,
		},
		{
			ID:           "local",
			Name:         "local",
			BaseURL:      "http://127.0.0.1:8080/v1",
			Issuer:       "http://127.0.0.1:5556/dex",
			ClientID:     "exchanger",
			ClientSecret: "exchanger-secret",
			Scopes:       []string{"openid", "profile"},
			AuthFlow:     FlowTokenExchange,
			// in the form body, as the plugin sends it
			ClientAuth:         ClientAuth{Method: oauth.AuthClientSecretPost, OmitClientID: new(false)},
			SubjectTokenSource: &SubjectSource{Type: subject.TypeFile, Path: "/tmp/sa-token"},
			TokenExchange:      TokenExchange{SubjectTokenType: grant.TokenTypeIDToken},
			ExtraParams:        map[string]string{"connector_id": "kubernetes"},
			PKCE:               new(true),
			HTTPTimeout:        2 * time.Second,
			TokenExpirySkew:    time.Minute,
		},
	}
	if diff := cmp.Diff(want, f.Providers); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	if f.Cache != (Cache{Namespace: "team-a"}) {
		t.Errorf("Cache = %+v; want namespace team-a", f.Cache)
	}
	wantWarn := []string{
		`provider.local.options.oauth2ModelSync.subjectTokenSource.tokenPath: ignored for type file`,
		`provider.local.options.oauth2ModelSync.futureField: unknown field, ignored`,
	}
	if diff := cmp.Diff(wantWarn, f.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestOpenCodeProviderWinsOverServer: upstream lets provider.<id>.options.oauth2
// replace a pluginConfig server with the same id.
func TestOpenCodeProviderWinsOverServer(t *testing.T) {
	data := `{
	  "pluginConfig": {"oauth2ModelSync": {"servers": [
	    {"id": "x", "issuer": "https://a.example.com", "clientId": "from-server", "scopes": ["openid"], "baseURL": "https://a.example.com/v1"}
	  ]}},
	  "provider": {"x": {"options": {"baseURL": "https://b.example.com/v1", "oauth2": {"issuer": "https://b.example.com", "clientId": "from-provider", "scopes": ["openid"]}}}}
	}`
	f, err := Parse([]byte(data), "opencode.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Provider("")
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != "from-provider" || p.BaseURL != "https://b.example.com/v1" {
		t.Errorf("got clientId %q baseURL %q; want the provider entry's", p.ClientID, p.BaseURL)
	}
	want := []string{"pluginConfig.oauth2ModelSync.servers[0]: overridden by provider.x.options.oauth2"}
	if diff := cmp.Diff(want, f.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestOpenCodeDefaults(t *testing.T) {
	// The smallest upstream provider: everything else defaulted as upstream.
	f, err := Parse([]byte(`{"provider": {"p": {"options": {"oauth2": {"issuer": "https://idp.example.com", "clientId": "c", "scopes": ["openid"]}}}}}`), "opencode.json")
	if err != nil {
		t.Fatal(err)
	}
	want := Provider{
		ID: "p", Name: "p", Issuer: "https://idp.example.com", ClientID: "c", Scopes: []string{"openid"},
		AuthFlow: FlowAuthorizationCode, ClientAuth: ClientAuth{OmitClientID: new(false)}, PKCE: new(true),
		HTTPTimeout: oauth.DefaultHTTPTimeout, TokenExpirySkew: cache.DefaultSkew,
	}
	if diff := cmp.Diff([]Provider{want}, f.Providers); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNativeFeatures(t *testing.T) {
	data := `
httpTimeout: 20s
tokenExpirySkewMs: 45000
cache: {dir: /var/cache/fedtoken, namespace: prod}
sidecar:
  listen: 127.0.0.1:8181
  upstream: https://api.example.com
providers:
  kc:
    issuer: https://kc.example.com/realms/e2e
    clientId: workload
    authFlow: client_credentials
    clientAuth: {method: federated}
    subjectTokenSource: {type: kubernetes_sa, tokenPath: /var/run/secrets/tokens/kc/token}
    tokenExpirySkew: 10s
  pk:
    tokenEndpoint: http://localhost:9000/token
    clientId: svc
    authFlow: client_credentials
    clientAuth: {method: private_key_jwt, privateKeyFile: /etc/fedtoken/key.pem, keyId: k1}
    scopes: ["api:read", "api:write"]
    extraParams: {audience: https://api.example.com}
  ex:
    issuer: http://idp.internal
    allowInsecureHTTP: true
    clientId: exchanger
    clientSecretEnv: EXCHANGER_SECRET
    clientAuth: {method: client_secret_post}
    authFlow: token_exchange
    subjectTokenSource: {type: exec, command: [/bin/get-token, --aud, idp], timeoutMs: 2500}
    actorTokenSource: {type: env, var: ACTOR_JWT}
    tokenExchange:
      requestedTokenType: access_token
      audience: [a, b]
      resource: https://api.example.com/
`
	f, err := Parse([]byte(data), "fedtoken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Provider{
		{
			ID: "ex", Name: "ex", Issuer: "http://idp.internal", AllowInsecureHTTP: true, ClientID: "exchanger",
			ClientSecretEnv: "EXCHANGER_SECRET", AuthFlow: FlowTokenExchange,
			ClientAuth:         ClientAuth{Method: oauth.AuthClientSecretPost, OmitClientID: new(false)},
			SubjectTokenSource: &SubjectSource{Type: subject.TypeExec, Command: []string{"/bin/get-token", "--aud", "idp"}, Timeout: 2500 * time.Millisecond},
			ActorTokenSource:   &SubjectSource{Type: subject.TypeEnv, Env: "ACTOR_JWT"},
			TokenExchange: TokenExchange{
				SubjectTokenType: grant.TokenTypeJWT, ActorTokenType: grant.TokenTypeJWT, RequestedTokenType: grant.TokenTypeAccessToken,
				Audience: []string{"a", "b"}, Resource: []string{"https://api.example.com/"},
			},
			PKCE: new(true), HTTPTimeout: 20 * time.Second, TokenExpirySkew: 45 * time.Second,
		},
		{
			ID: "kc", Name: "kc", Issuer: "https://kc.example.com/realms/e2e", ClientID: "workload", AuthFlow: FlowClientCredentials,
			ClientAuth:         ClientAuth{Method: oauth.AuthFederated, OmitClientID: new(true)},
			SubjectTokenSource: &SubjectSource{Type: subject.TypeKubernetesSA, TokenPath: "/var/run/secrets/tokens/kc/token"},
			PKCE:               new(true), HTTPTimeout: 20 * time.Second, TokenExpirySkew: 10 * time.Second,
		},
		{
			ID: "pk", Name: "pk", TokenEndpoint: "http://localhost:9000/token", ClientID: "svc", AuthFlow: FlowClientCredentials,
			ClientAuth:  ClientAuth{Method: oauth.AuthPrivateKeyJWT, PrivateKeyFile: "/etc/fedtoken/key.pem", KeyID: "k1", OmitClientID: new(false)},
			Scopes:      []string{"api:read", "api:write"},
			ExtraParams: map[string]string{"audience": "https://api.example.com"},
			PKCE:        new(true), HTTPTimeout: 20 * time.Second, TokenExpirySkew: 45 * time.Second,
		},
	}
	if diff := cmp.Diff(want, f.Providers); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	if f.Cache != (Cache{Dir: "/var/cache/fedtoken", Namespace: "prod"}) {
		t.Errorf("Cache = %+v", f.Cache)
	}
	if got, want := string(f.Sidecar), `{"listen":"127.0.0.1:8181","upstream":"https://api.example.com"}`; got != want {
		t.Errorf("Sidecar = %s; want %s", got, want)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("unexpected warnings: %q", f.Warnings)
	}
}

func TestNativeWarnings(t *testing.T) {
	data := `
providers:
  p:
    issuer: https://idp.example.com
    team: platform
    clientId: c
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, path: /wrong}
    actorTokenSource: {type: env, var: X}
    clientAuth: {keyId: k}
    tokenExchange: {requestedTokenType: jwt}
logging: {}
`
	f, err := Parse([]byte(data), "fedtoken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"logging: unknown field, ignored",
		"providers.p.subjectTokenSource.path: ignored for type kubernetes_sa (did you mean tokenPath?)",
		"providers.p.team: unknown field, ignored",
		"providers.p.clientAuth: privateKeyFile and keyId are ignored unless method is private_key_jwt",
		"providers.p.actorTokenSource: ignored: only authFlow token_exchange sends an actor token",
		"providers.p.tokenExchange: ignored: only authFlow token_exchange uses it",
	}
	if diff := cmp.Diff(want, f.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestSyntaxDetection: the extension picks the syntax; without one, "{"
// means JSON(C).
func TestSyntaxDetection(t *testing.T) {
	jsonc := "{\n  // comment\n  \"providers\": {\"p\": {\"issuer\": \"https://i.example.com\", \"clientId\": \"c\",},},\n}\n"
	yml := "providers:\n  p: {issuer: \"https://i.example.com\", clientId: c}\n"
	for _, tc := range []struct {
		name, data string
		ok         bool
	}{
		{"a.jsonc", jsonc, true},
		{"a.json", jsonc, true},
		{"stdin", jsonc, true},
		{"a.yaml", jsonc, false}, // YAML has no // comments
		{"a.yml", yml, true},
		{"stdin", yml, true},
		{"a.json", yml, false},
		{"a.yaml", `{"providers": {"p": {"issuer": "https://i.example.com", "clientId": "c"}}}`, true}, // YAML ⊃ JSON
		{"a.json", "\xef\xbb\xbf" + `{"providers": {"p": {"issuer": "https://i.example.com", "clientId": "c"}}}`, true},
	} {
		_, err := Parse([]byte(tc.data), tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("Parse(%q as %s) error = %v; want ok=%v", strings.SplitN(tc.data, "\n", 2)[0], tc.name, err, tc.ok)
		}
	}
}

func TestStripJSONC(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": 1, }`, `{"a": 1  }`},
		{`[1,2,]`, `[1,2 ]`},
		{`{,}`, `{,}`},
		{`[,]`, `[,]`},
		{`{"a":,}`, `{"a":,}`},
		{`{"a": "x, }", }`, `{"a": "x, }"  }`},
		{`{"a": "\"//", "b": 2 // c` + "\n}", `{"a": "\"//", "b": 2     ` + "\n}"},
		{"{/* a\n b */\"a\": 1}", "{    \n     \"a\": 1}"},
		{`{"a": 1 /* , */ , // x` + "\n}", `{"a": 1` + strings.Repeat(" ", 15) + "\n}"},
		{`"unterminated`, `"unterminated`},
		{`/* unterminated`, `               `},
	} {
		if got := string(stripJSONC([]byte(tc.in))); got != tc.want {
			t.Errorf("stripJSONC(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
