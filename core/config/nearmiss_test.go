package config

import (
	"github.com/google/go-cmp/cmp"
	"strings"
	"testing"
)

// TestNearMissKeys: a key that is a case, underscore or small-edit variant
// of a known one fails with "did you mean", in both shapes; unrelated
// unknown keys and every key upstream reads still load.
func TestNearMissKeys(t *testing.T) {
	for _, tc := range []struct {
		name, file, data, want string
	}{
		{"snake authFlow native", "fedtoken.yaml",
			"providers:\n  p:\n    issuer: https://idp.example.com\n    clientId: c\n    auth_flow: jwt_bearer\n    subjectTokenSource: {type: kubernetes_sa}\n",
			"config fedtoken.yaml: providers.p.auth_flow: unknown field; did you mean authFlow?"},
		{"snake clientAuth native", "fedtoken.yaml",
			"providers:\n  p:\n    issuer: https://idp.example.com\n    clientId: c\n    authFlow: client_credentials\n    clientSecretFile: /s\n    client_auth: {method: client_secret_post}\n",
			"config fedtoken.yaml: providers.p.client_auth: unknown field; did you mean clientAuth?"},
		{"snake omitClientId inside clientAuth", "fedtoken.yaml",
			"providers:\n  p:\n    issuer: https://idp.example.com\n    clientId: c\n    authFlow: client_credentials\n    clientSecretFile: /s\n    clientAuth: {omit_client_id: true}\n",
			"config fedtoken.yaml: providers.p.clientAuth.omit_client_id: unknown field; did you mean omitClientId?"},
		{"extra_params opencode", "opencode.json",
			`{"provider": {"m": {"options": {"oauth2": {"issuer": "https://idp.example.com", "clientId": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}, "extra_params": {"a": "b"}}}}}}`,
			"config opencode.json: provider.m.options.oauth2.extra_params: unknown field; did you mean extraParams?"},
		{"clientID opencode", "opencode.json",
			`{"provider": {"m": {"options": {"oauth2": {"issuer": "https://idp.example.com", "clientID": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}}}}}}`,
			"config opencode.json: provider.m.options.oauth2.clientID: unknown field; did you mean clientId?"},
		{"misspelt issuer in a server", "opencode.json",
			`{"pluginConfig": {"oauth2ModelSync": {"servers": [{"id": "s", "isuer": "https://idp.example.com", "issuer": "https://idp.example.com", "clientId": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}}]}}}`,
			"config opencode.json: pluginConfig.oauth2ModelSync.servers[0].isuer: unknown field; did you mean issuer?"},
		{"source token_path", "opencode.json",
			`{"provider": {"m": {"options": {"oauth2": {"issuer": "https://idp.example.com", "clientId": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa", "token_path": "/t"}}}}}}`,
			"config opencode.json: provider.m.options.oauth2.subjectTokenSource.token_path: unknown field; did you mean tokenPath?"},
		{"scope for scopes", "fedtoken.json",
			`{"providers": {"p": {"issuer": "https://idp.example.com", "clientId": "c", "scope": "openid", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}}}}`,
			"config fedtoken.json: providers.p.scope: unknown field; did you mean scopes?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data), tc.file)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\nwant a line\n%s", err, tc.want)
			}
		})
	}

	// Every upstream key, and fields unrelated to any known one, still load.
	ok := `{"provider": {"m": {"options": {"oauth2": {
	  "issuer": "https://idp.example.com", "clientId": "c", "scopes": ["openid"],
	  "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa", "tokenPath": "/t"},
	  "syncIntervalMinutes": 5, "nameOverrides": {"a": "b"}, "responseApi": false, "pkce": true,
	  "redirectPort": 8765, "jwksUri": "https://idp.example.com/jwks", "tokenExchangeAudience": "x",
	  "team": "platform"}}}},
	 "pluginConfig": {"oauth2ModelSync": {"logLevel": "debug", "cacheNamespace": "n", "httpTimeoutMs": 1000, "tokenExpirySkewMs": 1000}}}`
	f, err := Parse([]byte(ok), "opencode.json")
	if err != nil {
		t.Fatalf("upstream keys: %v", err)
	}
	// jwksUri is the one upstream key fedtoken does not act on: reported.
	want := []string{
		"provider.m.options.oauth2.jwksUri: accepted from the plugin but not used: fedtoken verifies no ID token",
		"provider.m.options.oauth2.team: unknown field, ignored",
	}
	if diff := cmp.Diff(want, f.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestNearMiss(t *testing.T) {
	known := []string{"issuer", "clientId", "authFlow", "extraParams", "var", "path", "type"}
	for k, want := range map[string]string{
		"ISSUER": "issuer", "client-id": "clientId", "authflow": "authFlow", "extraParam": "extraParams",
		"issuers": "issuer", "paht": "", "vars": "", "typo": "", "audience": "", "baseUrl": "",
	} {
		if got := nearMiss(k, known); got != want {
			t.Errorf("nearMiss(%q) = %q, want %q", k, got, want)
		}
	}
}
