package keycloak

import (
	"github.com/fedtoken/fedtoken/e2e/internal/golden"

	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSecretlessOpencodeGolden: the opencode.json docs/idp/keycloak.md
// shows is the seed's (deploy/config/single) with the one change the e2e
// applies (SecretlessOAuth2) and the issuer of a Keycloak realm "prod".
func TestSecretlessOpencodeGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "config", "single", "fedtoken-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(data, &cm); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(cm.Data["opencode.json"]), &doc); err != nil {
		t.Fatal(err)
	}
	oauth2 := doc["provider"].(map[string]any)["miaou"].(map[string]any)["options"].(map[string]any)["oauth2"].(map[string]any)
	oauth2["issuer"] = "https://keycloak.example.com/realms/prod"
	SecretlessOAuth2(oauth2)
	got, err := Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "secretless-opencode.golden.json")
	golden.Check(t, path, got, "run go test ./idp/keycloak -update and update docs/idp/keycloak.md")
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc2, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "idp", "keycloak.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc2, want) {
		t.Errorf("docs/idp/keycloak.md does not quote %s verbatim", path)
	}
}
