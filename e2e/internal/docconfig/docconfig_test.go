package docconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The sections the e2e suite TestIdPPageConfigs applies: each holds exactly
// one config of each shape.
func TestFindIdPPages(t *testing.T) {
	pages := filepath.Join("..", "..", "..", "docs", "idp")
	for _, tt := range []struct{ page, heading, issuer string }{
		{"keycloak.md", "Secretless jwt_bearer", "https://keycloak.example.com/realms/prod"},
		{"keycloak.md", "Federated client authentication", "https://keycloak.example.com/realms/fedtoken"},
		{"keycloak.md", "jwt_bearer with a client secret", "https://keycloak.example.com/realms/fedtoken-jag"},
		{"dex.md", "fedtoken config", "https://dex.example.com/dex"},
	} {
		for _, shape := range []string{Opencode, Native} {
			b, err := Find(filepath.Join(pages, tt.page), tt.heading, shape)
			if err != nil {
				t.Error(err)
				continue
			}
			if !strings.Contains(b.Text, tt.issuer) {
				t.Errorf("%s %q %s (line %d) does not name issuer %s", tt.page, tt.heading, shape, b.Line, tt.issuer)
			}
		}
	}
}

func TestFindRefusesAmbiguity(t *testing.T) {
	page := "# t\n\n## A\n\n```json\n{\"provider\": {}}\n```\n\n```json\n{\"provider\": {}}\n```\n\n" +
		"## B\n\n```yaml\nproviders: {}\n```\n\n```json\n{\"realm\": \"x\"}\n```\n"
	path := filepath.Join(t.TempDir(), "p.md")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(path, "A", Opencode); err == nil || !strings.Contains(err.Error(), "2 opencode.json configs") {
		t.Errorf("two configs in A: err = %v", err)
	}
	if _, err := Find(path, "B", Opencode); err == nil || !strings.Contains(err.Error(), "0 opencode.json configs") {
		t.Errorf("no config in B: err = %v", err)
	}
	if _, err := Find(path, "C", Native); err == nil || !strings.Contains(err.Error(), "no section") {
		t.Errorf("missing section: err = %v", err)
	}
	b, err := Find(path, "B", Native)
	if err != nil || b.Text != "providers: {}\n" || b.Line != 15 {
		t.Errorf("B native = %+v, %v", b, err)
	}
}
