//go:build e2e

package suites

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"

	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/docconfig"
)

// TestIdPPageConfigs applies the fedtoken configs of docs/idp/keycloak.md
// and docs/idp/dex.md as a reader copies them — both shapes, every flow —
// and gets a real token with each through core (config.Parse →
// provider.New → TokenContext) from this run's Keycloak and Dex, with a
// TokenRequest token of the harness workload as the projected token.
//
// The block is parsed byte for byte as the page shows it. Then exactly
// these run-time values replace the page's, and nothing else changes:
//   - issuer: the page's placeholder origin (https://keycloak.example.com,
//     https://dex.example.com) becomes the harness IdP's; the path (the
//     realm, /dex) is the page's;
//   - allowInsecureHTTP: true (the harness IdPs are plain http on its bridge);
//   - subjectTokenSource.tokenPath: the page leaves the kubernetes_sa
//     default; here a file holding a TokenRequest token whose audience is
//     the issuer (as the pages' projected volumes have it);
//   - clientSecretFile: the page's path becomes a file holding this run's
//     client secret.
//
// Keycloak's token endpoint (and its port) comes from discovery, as in
// production. The access token must come from the page's issuer and name
// the page's client.
func TestIdPPageConfigs(t *testing.T) {
	e := requireEnv(t)
	pages := filepath.Join(e.RepoRoot, "docs", "idp")
	const kcOrigin, dexOrigin = "https://keycloak.example.com", "https://dex.example.com"
	tests := []struct {
		page, heading string
		needDex       bool
		origin        string
		secretFile    string // the page's clientSecretFile, "" for none
		secret        func() string
		check         func(t *testing.T, p config.Provider, at map[string]any)
	}{
		{
			page: "keycloak.md", heading: "Secretless jwt_bearer", origin: kcOrigin,
			check: func(t *testing.T, p config.Provider, at map[string]any) {
				if at["azp"] != p.ClientID || at["preferred_username"] != "opencode-runner" {
					t.Errorf("azp=%v preferred_username=%v, want %s and opencode-runner", at["azp"], at["preferred_username"], p.ClientID)
				}
			},
		},
		{
			page: "keycloak.md", heading: "Federated client authentication", origin: kcOrigin,
			check: func(t *testing.T, p config.Provider, at map[string]any) {
				if at["azp"] != p.ClientID || p.ClientID != keycloak.FederatedClientID {
					t.Errorf("azp=%v, page clientId=%s, realm client %s", at["azp"], p.ClientID, keycloak.FederatedClientID)
				}
			},
		},
		{
			page: "keycloak.md", heading: "jwt_bearer with a client secret", origin: kcOrigin,
			secretFile: "/var/run/secrets/keycloak/client-secret", secret: func() string { return e.KeycloakJWTGrantSecret },
			check: func(t *testing.T, p config.Provider, at map[string]any) {
				if at["azp"] != p.ClientID || at["preferred_username"] != keycloak.JWTGrantUser {
					t.Errorf("azp=%v preferred_username=%v, want %s and %s", at["azp"], at["preferred_username"], p.ClientID, keycloak.JWTGrantUser)
				}
			},
		},
		{
			page: "dex.md", heading: "fedtoken config", origin: dexOrigin, needDex: true,
			secretFile: "/var/run/secrets/dex/client-secret", secret: func() string { return e.DexClientSecret },
			check: func(t *testing.T, p config.Provider, at map[string]any) {
				if !slices.Equal(audiences(at), []string{p.ClientID}) || p.ClientID != dex.ClientID {
					t.Errorf("aud=%v, page clientId=%s, Dex client %s", at["aud"], p.ClientID, dex.ClientID)
				}
			},
		},
	}
	if e.Keycloak != nil {
		createSecretlessPageRealm(t, e)
	}
	for _, tt := range tests {
		for _, shape := range []string{docconfig.Opencode, docconfig.Native} {
			t.Run(tt.page+"/"+tt.heading+"/"+strings.TrimPrefix(shape, "."), func(t *testing.T) {
				base := ""
				if tt.needDex {
					base = strings.TrimSuffix(requireDex(t).Dex.Issuer(), "/dex")
				} else {
					base = requireKeycloak(t).Keycloak.URL()
				}
				ctx := testContext(t, 2*time.Minute)
				page := filepath.Join(pages, tt.page)
				b, err := docconfig.Find(page, tt.heading, shape)
				if err != nil {
					t.Fatal(err)
				}
				f, err := config.Parse([]byte(b.Text), page+shape)
				if err != nil {
					t.Fatalf("%s:%d does not parse: %v", page, b.Line, err)
				}
				if len(f.Providers) != 1 {
					t.Fatalf("%s:%d: %d providers, want one", page, b.Line, len(f.Providers))
				}
				p := f.Providers[0]

				// The run-time substitutions (see above), each checked against the page.
				if !strings.HasPrefix(p.Issuer, tt.origin+"/") {
					t.Fatalf("%s:%d: issuer %s is not under %s", page, b.Line, p.Issuer, tt.origin)
				}
				p.Issuer = base + strings.TrimPrefix(p.Issuer, tt.origin)
				p.AllowInsecureHTTP = true
				dir := t.TempDir()
				s := p.SubjectTokenSource
				if s == nil || s.Type != subject.TypeKubernetesSA || s.TokenPath != subject.DefaultKubernetesTokenPath {
					t.Fatalf("%s:%d: subjectTokenSource %v, want kubernetes_sa at its default path", page, b.Line, s)
				}
				s.TokenPath = filepath.Join(dir, "token")
				if err := os.WriteFile(s.TokenPath, []byte(requestToken(t, ctx, p.Issuer)), 0o600); err != nil {
					t.Fatal(err)
				}
				if p.ClientSecretFile != tt.secretFile {
					t.Fatalf("%s:%d: clientSecretFile %q, want %q", page, b.Line, p.ClientSecretFile, tt.secretFile)
				}
				if tt.secretFile != "" {
					p.ClientSecretFile = filepath.Join(dir, "client-secret")
					if err := os.WriteFile(p.ClientSecretFile, []byte(tt.secret()+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				}

				pr, err := provider.New(p)
				if err != nil {
					t.Fatal(err)
				}
				tok, err := pr.TokenContext(ctx)
				if err != nil {
					t.Fatalf("%s:%d (%s, %s) got no token: %v", page, b.Line, p.AuthFlow, p.Issuer, err)
				}
				at := claims(t, tok.AccessToken)
				if at["iss"] != p.Issuer {
					t.Errorf("access token iss=%v, want %s", at["iss"], p.Issuer)
				}
				tt.check(t, p, at)
				t.Logf("%s:%d: %s token from %s, expires in %s", page, b.Line, p.AuthFlow, p.Issuer, time.Until(tok.Expiry).Round(time.Second))
			})
		}
	}
}

// createSecretlessPageRealm creates the page's secretless realm "prod" for
// the harness workload, with the page's client and user names.
func createSecretlessPageRealm(t *testing.T, e *harness.Env) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	if err := e.Keycloak.CreateRealm(ctx, keycloak.SecretlessRealmRepresentation(keycloak.SecretlessParams{
		Realm: "prod", ClientID: "k8s-runner", Issuer: e.Cluster.Issuer(),
		Subject: e.KeycloakParams().Subject(), Username: "opencode-runner",
	})); err != nil {
		t.Fatal(err)
	}
}
