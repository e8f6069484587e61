package mockidp

import (
	"github.com/fedtoken/fedtoken/e2e/internal/golden"

	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestConfigParses(t *testing.T) {
	p := Params{
		BaseURL: "http://10.213.0.1:4444", ListenAddr: "10.213.0.1:4444",
		K8sIssuer: "https://127.0.0.1:6443", K8sCAFile: "/tmp/ca.crt",
		Namespace: "e2e", ServiceAccount: "workload", AccessTokenLifetime: "60s",
		ExtraSubjects: []string{"system:serviceaccount:ai-jobs:opencode-runner"},
	}
	var cfg struct {
		Listen  string `json:"listen"`
		BaseURL string `json:"baseURL"`
		Issuers []struct {
			Name  string `json:"name"`
			Trust []struct {
				Name, Issuer, DiscoveryURL, CAFile, JWKSFile string
				Audiences, Subjects                          []string
			} `json:"trust"`
			Clients []struct {
				ID        string `json:"id"`
				Public    bool   `json:"public"`
				Federated struct{ Trust, Subject string }
				Grants    []string `json:"grants"`
			} `json:"clients"`
		} `json:"issuers"`
	}
	if err := yaml.Unmarshal([]byte(Config(p)), &cfg); err != nil {
		t.Fatalf("%v\n%s", err, Config(p))
	}
	if cfg.Listen != p.ListenAddr || cfg.BaseURL != p.BaseURL || len(cfg.Issuers) != 3 {
		t.Fatalf("config = %+v", cfg)
	}
	for i, iss := range cfg.Issuers {
		if want := append(Issuers, Discovery)[i]; iss.Name != want {
			t.Errorf("issuer %d = %q, want %q", i, iss.Name, want)
		}
		tr := iss.Trust[0]
		if tr.Issuer != p.K8sIssuer || tr.DiscoveryURL != p.K8sIssuer+"/.well-known/openid-configuration" || tr.CAFile != p.K8sCAFile || tr.JWKSFile != "" {
			t.Errorf("%s trust = %+v", iss.Name, tr)
		}
		if len(tr.Audiences) != 1 || tr.Audiences[0] != "http://10.213.0.1:4444/"+iss.Name {
			t.Errorf("%s audiences = %v (audience pinning to its own URL)", iss.Name, tr.Audiences)
		}
		if fc := iss.Clients[0]; fc.ID != FederatedClientID || fc.Federated.Subject != "system:serviceaccount:e2e:workload" || fc.Federated.Trust != TrustName {
			t.Errorf("%s federated client = %+v", iss.Name, fc)
		}
		if jc := iss.Clients[1]; jc.ID != JWTBearerClientID || !jc.Public {
			t.Errorf("%s jwt_bearer client = %+v", iss.Name, jc)
		}
		if sc := iss.Clients[2]; sc.ID != SeedClientID || !sc.Public {
			t.Errorf("%s seed client = %+v", iss.Name, sc)
		}
		if want := []string{"system:serviceaccount:e2e:*", "system:serviceaccount:ai-jobs:opencode-runner"}; !slices.Equal(tr.Subjects, want) {
			t.Errorf("%s subjects = %v, want %v", iss.Name, tr.Subjects, want)
		}
	}
}

// docParams render the configuration docs/e2e.md shows.
var docParams = Params{
	BaseURL: "http://10.213.0.1:41961", ListenAddr: "10.213.0.1:41961",
	K8sIssuer: "https://127.0.0.1:6443", K8sCAFile: "/tmp/fedtoken-e2e-XXXX/pki/ca.crt",
	Namespace: "e2e", ServiceAccount: "workload", AccessTokenLifetime: "60s",
	ExtraSubjects:      []string{"system:serviceaccount:ai-jobs:opencode-runner"},
	KeyClientPublicKey: "/tmp/fedtoken-e2e-XXXX/svc-key.pem.pub",
}

func TestConfigGolden(t *testing.T) {
	got := []byte(Config(docParams))
	path := filepath.Join("testdata", "config.golden.yaml")
	golden.Check(t, path, got, "run go test ./idp/mockidp -update and update docs/e2e.md")
}

// docs/e2e.md quotes the golden configuration verbatim.
func TestDocsQuoteTheAppliedConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "e2e.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "config.golden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, golden) {
		t.Error("docs/e2e.md does not quote idp/mockidp/testdata/config.golden.yaml verbatim: paste it into the doc")
	}
}
