package keycloak

import (
	"github.com/fedtoken/fedtoken/e2e/internal/golden"

	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// docParams are the placeholder values the golden files (and the docs that
// quote them) show.
var docParams = Params{
	Issuer:         "https://kubernetes.example.com",
	Namespace:      "ai-jobs",
	ServiceAccount: "opencode-runner",
	ClientSecret:   "<client secret>",
}

// docSecretless is the secretless realm the docs show: the seed's names.
var docSecretless = SecretlessParams{
	Realm: "prod", ClientID: "k8s-runner", Issuer: "https://kubernetes.example.com",
	Subject: "system:serviceaccount:ai-jobs:opencode-runner", Username: "opencode-runner",
}

func TestRealmGolden(t *testing.T) {
	tests := []struct {
		file string
		rep  map[string]any
	}{
		{"federated-realm.golden.json", FederatedRealmRepresentation(docParams)},
		{"jwt-grant-realm.golden.json", JWTGrantRealmRepresentation(docParams)},
		{"secretless-realm.golden.json", SecretlessRealmRepresentation(docSecretless)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Render(tt.rep)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			golden.Check(t, path, got, "run go test ./idp/keycloak -update and update docs/idp/keycloak.md")
		})
	}
}

// docs/idp/keycloak.md quotes the golden realms verbatim.
func TestDocsQuoteTheAppliedRealms(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "idp", "keycloak.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"federated-realm.golden.json", "jwt-grant-realm.golden.json", "secretless-realm.golden.json"} {
		golden, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, golden) {
			t.Errorf("docs/idp/keycloak.md does not quote testdata/%s verbatim: paste it into the doc", f)
		}
	}
}

func TestRealmInvariants(t *testing.T) {
	p := docParams
	fed := FederatedRealmRepresentation(p)
	client := fed["clients"].([]any)[0].(map[string]any)
	attrs := client["attributes"].(map[string]any)
	if attrs["jwt.credential.sub"] != "system:serviceaccount:ai-jobs:opencode-runner" {
		t.Errorf("federated client sub = %v", attrs["jwt.credential.sub"])
	}
	idp := fed["identityProviders"].([]any)[0].(map[string]any)
	if attrs["jwt.credential.issuer"] != idp["alias"] {
		t.Errorf("client trusts IdP %v, realm defines %v", attrs["jwt.credential.issuer"], idp["alias"])
	}
	jag := JWTGrantRealmRepresentation(p)
	jidp := jag["identityProviders"].([]any)[0].(map[string]any)
	cfg := jidp["config"].(map[string]any)
	if cfg["jwksUrl"] != p.Issuer+"/openid/v1/jwks" {
		t.Errorf("jwksUrl = %v", cfg["jwksUrl"])
	}
	user := jag["users"].([]any)[0].(map[string]any)
	link := user["federatedIdentities"].([]any)[0].(map[string]any)
	if link["identityProvider"] != jidp["alias"] || link["userId"] != p.Subject() {
		t.Errorf("user link = %v", link)
	}
	if got := TokenEndpoint("http://h:1", "r"); got != "http://h:1/realms/r/protocol/openid-connect/token" {
		t.Errorf("TokenEndpoint = %s", got)
	}
}
