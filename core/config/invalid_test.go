package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oc wraps an options.oauth2 body into an opencode.json with provider "miaou".
func oc(oauth2 string) string {
	return `{"provider": {"miaou": {"name": "Miaou", "options": {"baseURL": "https://api.example.com/v1", "oauth2": ` + oauth2 + `}}}}`
}

// valid jwt_bearer body fields, to be combined with one broken field.
const jb = `"issuer": "https://auth.example.com/realms/prod", "clientId": "k8s-runner", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}`

const secretValue = "s3cr3t-do-not-print"

func TestParseInvalid(t *testing.T) {
	const ocPath = "config opencode.json: provider.miaou.options.oauth2."
	const nPath = "config fedtoken.yaml: providers.miaou."
	tests := []struct {
		name string
		file string // "opencode.json" or "fedtoken.yaml"
		data string
		want []string // exact error lines, in order
	}{
		{
			name: "unknown subject source type",
			file: "opencode.json",
			data: oc(`{"issuer": "https://auth.example.com/realms/prod", "clientId": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes"}}`),
			want: []string{ocPath + `subjectTokenSource.type: "kubernetes" is not one of kubernetes_sa, file, env, github_actions, exec`},
		},
		{
			name: "native unknown authFlow",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    issuer: https://idp.example.com\n    clientId: c\n    authFlow: password\n",
			want: []string{nPath + `authFlow: "password" is not one of authorization_code, device_code, client_credentials, jwt_bearer, token_exchange, jwt_bearer_key`},
		},
		{
			name: "type errors name the path",
			file: "opencode.json",
			data: oc(`{"issuer": "https://auth.example.com/realms/prod", "clientId": 42, "scopes": ["openid", 7], "pkce": "yes", "redirectPort": "8080", "clientSecret": 12345}`),
			want: []string{
				ocPath + "clientId: expected a string, got number",
				ocPath + "clientSecret: expected a string, got number",
				ocPath + "scopes[1]: expected a string, got number",
				ocPath + "pkce: expected a boolean (true or false), got string",
				ocPath + "redirectPort: expected a number, got string",
			},
		},
		{
			name: "all errors are collected",
			file: "fedtoken.yaml",
			data: `
providers:
  miaou:
    issuer: http://auth.example.com/realms/prod
    scopes: openid
    authFlow: token_exchange
    redirectPort: 70000
    tokenExchange:
      subjectTokenType: jwt-please
      resource: [not a uri]
`,
			want: []string{
				nPath + `tokenExchange.subjectTokenType: "jwt-please" is not a token type URI; use e.g. urn:ietf:params:oauth:token-type:jwt, or a short name: jwt, id_token, access_token, refresh_token, saml1, saml2`,
				nPath + `tokenExchange.resource[0]: "not a uri" is not an absolute URI (RFC 8693 §2.1)`,
				nPath + "redirectPort: must be an integer from 1 to 65535, got 70000",
				nPath + "issuer: http:// is refused for http://auth.example.com/realms/prod (not loopback); use https, or set providers.miaou.allowInsecureHTTP: true",
				nPath + "clientId: required",
				nPath + `subjectTokenSource: required when authFlow is token_exchange; e.g. {"type": "kubernetes_sa"}`,
			},
		},
		{
			name: "no issuer and no token endpoint",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    clientId: c\n    authFlow: device_code\n",
			want: []string{
				nPath + "issuer: required (or set tokenEndpoint)",
				nPath + "deviceAuthorizationEndpoint: required when authFlow is device_code and issuer is not set",
			},
		},
		{
			name: "authorization_code needs an authorization endpoint without issuer",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    clientId: c\n    tokenEndpoint: https://idp.example.com/token\n",
			want: []string{nPath + "authorizationEndpoint: required when authFlow is authorization_code and issuer is not set"},
		},
		{
			name: "federated needs a subject token source",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    issuer: https://idp.example.com\n    clientId: c\n    authFlow: client_credentials\n    clientAuth: {method: federated}\n",
			want: []string{nPath + "subjectTokenSource: required when providers.miaou.clientAuth.method is federated (the platform JWT is sent as client_assertion)"},
		},
		{
			name: "private_key_jwt needs a key",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    issuer: https://idp.example.com\n    clientId: c\n    authFlow: client_credentials\n    clientAuth: {method: private_key_jwt, keyId: k1}\n",
			want: []string{nPath + "clientAuth.privateKeyFile: required when providers.miaou.clientAuth.method is private_key_jwt"},
		},
		{
			name: "client_credentials needs a credential",
			file: "opencode.json",
			data: oc(`{"issuer": "https://auth.example.com/realms/prod", "clientId": "c", "authFlow": "client_credentials"}`),
			want: []string{ocPath + "clientSecret: required when authFlow is client_credentials (or set clientSecretFile or clientSecretEnv, or provider.miaou.options.oauth2.clientAuth.method private_key_jwt or federated)"},
		},
		{
			name: "secret sources are exclusive and none forbids them",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    issuer: https://idp.example.com\n    clientId: c\n    clientSecret: " + secretValue + "\n    clientSecretEnv: CLIENT_SECRET\n    clientAuth: {method: none}\n",
			want: []string{
				nPath + "clientSecretEnv: set only one of clientSecret, clientSecretEnv",
				nPath + "clientSecret: must not be set when providers.miaou.clientAuth.method is none",
			},
		},
		{
			name: "client_secret_basic needs a secret, bad method",
			file: "fedtoken.yaml",
			data: "providers:\n  a:\n    issuer: https://idp.example.com\n    clientId: c\n    clientAuth: {method: client_secret_basic}\n  b:\n    issuer: https://idp.example.com\n    clientId: c\n    clientAuth: {method: mtls}\n",
			want: []string{
				"config fedtoken.yaml: providers.a.clientSecret: required when providers.a.clientAuth.method is client_secret_basic (or set clientSecretFile or clientSecretEnv)",
				`config fedtoken.yaml: providers.b.clientAuth.method: "mtls" is not one of auto, client_secret_basic, client_secret_post, none, private_key_jwt, federated`,
			},
		},
		{
			name: "URL checks",
			file: "fedtoken.yaml",
			data: `
providers:
  miaou:
    issuer: https://auth.example.com/realms/prod?x=1
    clientId: c
    tokenEndpoint: https://user:` + secretValue + `@auth.example.com/token
    authorizationEndpoint: /relative/authorize
    deviceAuthorizationEndpoint: ftp://auth.example.com/device
    jwksUri: "https://"
    baseURL: http://gateway.internal:8080/v1?key=` + secretValue + `
`,
			want: []string{
				nPath + "issuer: an issuer must not have a query or fragment",
				nPath + "tokenEndpoint: must not contain credentials (user:password@); use clientId and clientSecret",
				nPath + "authorizationEndpoint: must be an absolute https:// URL",
				nPath + `deviceAuthorizationEndpoint: scheme "ftp" is not allowed; use https`,
				nPath + "jwksUri: has no host",
				nPath + "baseURL: http:// is refused for http://gateway.internal:8080/v1 (not loopback); use https, or set providers.miaou.allowInsecureHTTP: true",
			},
		},
		{
			name: "durations",
			file: "fedtoken.yaml",
			data: `
httpTimeout: 15
providers:
  miaou:
    issuer: https://idp.example.com
    clientId: c
    httpTimeout: 5s
    httpTimeoutMs: 5000
    tokenExpirySkew: 2h
    authFlow: jwt_bearer
    subjectTokenSource: {type: exec, command: "get-token --aud x", timeout: soon}
`,
			want: []string{
				"config fedtoken.yaml: httpTimeout: expected a duration string such as \"15s\" or \"1m30s\", got number (use httpTimeoutMs for milliseconds)",
				nPath + "subjectTokenSource.command: expected an array of strings (the program and its arguments; no shell), got string",
				nPath + `subjectTokenSource.timeout: "soon" is not a duration; use a number with a unit, such as "15s" or "1m30s"`,
				nPath + "httpTimeoutMs: set only one of httpTimeout and httpTimeoutMs",
				nPath + "tokenExpirySkew: 2h0m0s is out of range; must be from 0s to 1h0m0s",
			},
		},
		{
			name: "upstream millisecond globals",
			file: "opencode.json",
			data: `{"pluginConfig": {"oauth2ModelSync": {"httpTimeoutMs": -1, "tokenExpirySkewMs": "30000", "servers": []}}}`,
			want: []string{
				"config opencode.json: pluginConfig.oauth2ModelSync.httpTimeoutMs: -1 is out of range; must be from 1 to 600000 (milliseconds)",
				"config opencode.json: pluginConfig.oauth2ModelSync.tokenExpirySkewMs: expected a number, got string",
			},
		},
		{
			name: "subject source fields per type",
			file: "fedtoken.yaml",
			data: `
providers:
  a: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: file}}
  b: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: env}}
  c: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: github_actions}}
  d: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: exec, command: []}}
  e: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {tokenPath: /t}}
  f: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: kubernetes_sa}
  g: {issuer: "https://idp.example.com", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: 1}}
`,
			want: []string{
				"config fedtoken.yaml: providers.a.subjectTokenSource.path: required when type is file",
				"config fedtoken.yaml: providers.b.subjectTokenSource.var: required when type is env (the name of the environment variable)",
				"config fedtoken.yaml: providers.c.subjectTokenSource.audience: required when type is github_actions (the aud your IdP expects)",
				"config fedtoken.yaml: providers.d.subjectTokenSource.command: must name a program",
				"config fedtoken.yaml: providers.e.subjectTokenSource.type: required; one of kubernetes_sa, file, env, github_actions, exec",
				"config fedtoken.yaml: providers.f.subjectTokenSource: expected an object, got string",
				"config fedtoken.yaml: providers.g.subjectTokenSource.type: expected a string, got number",
			},
		},
		{
			name: "reserved extra params",
			file: "fedtoken.yaml",
			data: `
providers:
  cc:
    issuer: https://idp.example.com
    clientId: c
    clientSecretFile: /run/secrets/c
    authFlow: client_credentials
    extraParams: {audience: https://api.example.com, client_secret: "` + secretValue + `", num: 1}
  te:
    issuer: https://idp.example.com
    clientId: c
    authFlow: token_exchange
    subjectTokenSource: {type: kubernetes_sa}
    extraParams: {audience: x, connector_id: kubernetes}
`,
			want: []string{
				"config fedtoken.yaml: providers.cc.extraParams.num: expected a string, got number",
				"config fedtoken.yaml: providers.cc.extraParams.client_secret: is set by fedtoken and cannot be overridden; use clientSecret",
				"config fedtoken.yaml: providers.te.extraParams.audience: is set by fedtoken and cannot be overridden; use tokenExchange.audience",
			},
		},
		{
			name: "both audience spellings",
			file: "opencode.json",
			data: oc(`{` + jb + `, "authFlow": "token_exchange", "tokenExchangeAudience": "a", "tokenExchange": {"audience": ["b"]}}`),
			want: []string{ocPath + "tokenExchange.audience: set only one of tokenExchangeAudience and tokenExchange.audience"},
		},
		{
			name: "pluginConfig servers",
			file: "opencode.json",
			data: `{"pluginConfig": {"oauth2ModelSync": {"servers": [
				{"issuer": "https://idp.example.com", "clientId": "c"},
				{"id": "x", "issuer": "https://idp.example.com", "clientId": "c"},
				{"id": "x", "issuer": "https://idp.example.com", "clientId": "c"},
				"not an object"
			]}}}`,
			want: []string{
				"config opencode.json: pluginConfig.oauth2ModelSync.servers[0].id: required",
				`config opencode.json: pluginConfig.oauth2ModelSync.servers[2].id: duplicate id "x" (also pluginConfig.oauth2ModelSync.servers[1])`,
				"config opencode.json: pluginConfig.oauth2ModelSync.servers[3]: expected an object, got string",
			},
		},
		{
			name: "servers not an array",
			file: "opencode.json",
			data: `{"pluginConfig": {"oauth2ModelSync": {"servers": {"id": "x"}}}}`,
			want: []string{"config opencode.json: pluginConfig.oauth2ModelSync.servers: expected an array of servers, got object"},
		},
		{
			name: "odd provider ids are quoted in paths",
			file: "opencode.json",
			data: `{"provider": {"my.idp": {"options": {"oauth2": {"clientId": "c"}}}, "": {"options": {"oauth2": {}}}}}`,
			want: []string{
				`config opencode.json: provider[""]: a provider id must not be empty`,
				`config opencode.json: provider["my.idp"].options.oauth2.issuer: required (or set tokenEndpoint)`,
				`config opencode.json: provider["my.idp"].options.oauth2.authorizationEndpoint: required when authFlow is authorization_code and issuer is not set`,
			},
		},
		{
			name: "oauth2 not an object",
			file: "opencode.json",
			data: `{"provider": {"miaou": {"options": {"oauth2": true}}}}`,
			want: []string{"config opencode.json: provider.miaou.options.oauth2: expected an object, got boolean"},
		},
		{
			name: "native providers as a list",
			file: "fedtoken.yaml",
			data: "providers:\n- id: miaou\n",
			want: []string{"config fedtoken.yaml: providers: expected an object mapping provider id to provider, got array"},
		},
		{
			name: "a rejected authFlow does not cascade",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    clientId: c\n    authFlow: jwt-bearer\n    clientAuth: {method: basic}\n",
			want: []string{
				nPath + `authFlow: "jwt-bearer" is not one of authorization_code, device_code, client_credentials, jwt_bearer, token_exchange, jwt_bearer_key`,
				nPath + `clientAuth.method: "basic" is not one of auto, client_secret_basic, client_secret_post, none, private_key_jwt, federated`,
				nPath + "issuer: required (or set tokenEndpoint)",
			},
		},
		{
			name: "control characters are refused without echoing the value",
			file: "opencode.json",
			data: oc(`{` + jb + `, "clientSecret": "` + secretValue + `\u0001", "scopes": ["a\u007f"], "extraParams": {"k": "\u0085"}}`),
			want: []string{
				ocPath + "clientSecret: contains a control character",
				ocPath + "scopes[0]: contains a control character",
				ocPath + "extraParams.k: contains a control character",
			},
		},
		{
			name: "native empty providers",
			file: "fedtoken.yaml",
			data: "providers: {}\nsidecar: [1]\ncache: {dir: 3}\n",
			want: []string{
				"config fedtoken.yaml: cache.dir: expected a string, got number",
				"config fedtoken.yaml: sidecar: expected an object, got array",
				"config fedtoken.yaml: providers: no provider defined",
			},
		},
		{
			name: "native id mismatch",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    id: other\n    issuer: https://idp.example.com\n    clientId: c\n",
			want: []string{nPath + `id: "other" does not match the key "miaou"; drop it or make them equal`},
		},
		{
			name: "opencode without OAuth providers",
			file: "opencode.json",
			data: `{"provider": {"openai": {"options": {"apiKey": "{env:OPENAI_API_KEY}"}}, "anthropic": {}}}`,
			want: []string{"config opencode.json: no OAuth provider: expected provider.<id>.options.oauth2 or pluginConfig.oauth2ModelSync.servers[]; providers without options.oauth2: anthropic, openai"},
		},
		{
			name: "unknown shape",
			file: "x.json",
			data: `{"providers_": {}, "servers": []}`,
			want: []string{`config x.json: expected a top-level "providers" (fedtoken native config) or "provider"/"pluginConfig" (opencode.json); found keys providers_, servers`},
		},
		{
			name: "both shapes",
			file: "x.yaml",
			data: "providers: {}\nprovider: {}\n",
			want: []string{`config x.yaml: has both "providers" (fedtoken native) and "provider"/"pluginConfig" (opencode.json); use one shape`},
		},
		{
			name: "top level not an object",
			file: "x.yaml",
			data: "- a\n- b\n",
			want: []string{"config x.yaml: the top level must be an object, got array"},
		},
		{
			name: "empty",
			file: "x.yaml",
			data: "# nothing\n",
			want: []string{"config x.yaml: empty document"},
		},
		{
			name: "JSON syntax error has a position",
			file: "opencode.json",
			data: "{\n  \"provider\": {\n    \"miaou\": {,}\n  }\n}\n",
			want: []string{"config opencode.json: invalid JSON at line 3, column 15: invalid character ',' looking for beginning of object key string"},
		},
		{
			name: "truncated JSON",
			file: "opencode.json",
			data: `{"provider": {`,
			want: []string{"config opencode.json: invalid JSON: unexpected end of input (an unclosed { or [ ?)"},
		},
		{
			name: "trailing data",
			file: "opencode.json",
			data: `{"provider": {}} {}`,
			want: []string{"config opencode.json: invalid JSON at line 1, column 18: unexpected data after the top-level value"},
		},
		{
			name: "YAML syntax error",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    clientId: c\n   issuer: x\n",
			want: []string{"config fedtoken.yaml: invalid YAML: yaml: line 3: did not find expected key"},
		},
		{
			name: "YAML duplicate key",
			file: "fedtoken.yaml",
			data: "providers:\n  miaou:\n    clientId: c\n    clientId: d\n",
			want: []string{`config fedtoken.yaml: invalid YAML: yaml: unmarshal errors:` + "\n" + `  line 4: key "clientId" already set in map`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.data), tt.file)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", f.Providers)
			}
			got := strings.Split(err.Error(), "\n")
			want := strings.Split(strings.Join(tt.want, "\n"), "\n")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error reveals the secret: %v", err)
			}
			if fes := fieldErrors(err); len(fes) > 0 {
				var first *FieldError
				if !errors.As(err, &first) || first != fes[0] {
					t.Errorf("errors.As gives %v; want the first FieldError %v", first, fes[0])
				}
				for _, fe := range fes {
					if fe.File != tt.file || fe.Path == "" || fe.Msg == "" {
						t.Errorf("FieldError %+v: want File %q and a path and message", fe, tt.file)
					}
				}
			}
		})
	}
}
