package dex

import (
	"github.com/fedtoken/fedtoken/e2e/internal/golden"

	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var docParams = Params{
	Issuer:       "https://dex.example.com/dex",
	ListenAddr:   "0.0.0.0:5556",
	K8sIssuer:    "https://kubernetes.example.com",
	K8sCAFile:    "/etc/dex/kubernetes-ca.crt",
	ClientSecret: "<client secret>",
}

func TestConfigGolden(t *testing.T) {
	got := []byte(Config(docParams))
	path := filepath.Join("testdata", "config.golden.yaml")
	golden.Check(t, path, got, "run go test ./idp/dex -update and update docs/idp/dex.md")
}

// docs/idp/dex.md quotes the golden configuration verbatim.
func TestDocsQuoteTheAppliedConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "idp", "dex.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "config.golden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, golden) {
		t.Error("docs/idp/dex.md does not quote testdata/config.golden.yaml verbatim: paste it into the doc")
	}
}

func TestConfigParses(t *testing.T) {
	p := docParams
	p.ClientSecret = `we"ird\secret`
	var cfg struct {
		Issuer        string `json:"issuer"`
		StaticClients []struct {
			ID, Secret string
		} `json:"staticClients"`
		Connectors []struct {
			Type, ID string
			Config   struct {
				Issuer      string   `json:"issuer"`
				RootCAs     []string `json:"rootCAs"`
				Scopes      []string `json:"scopes"`
				UserNameKey string   `json:"userNameKey"`
			} `json:"config"`
		} `json:"connectors"`
	}
	if err := yaml.Unmarshal([]byte(Config(p)), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != p.Issuer || len(cfg.StaticClients) != 1 || cfg.StaticClients[0].Secret != p.ClientSecret {
		t.Errorf("issuer/client = %q %+v", cfg.Issuer, cfg.StaticClients)
	}
	c := cfg.Connectors[0]
	if c.ID != ConnectorID || c.Type != "oidc" || c.Config.Issuer != p.K8sIssuer || c.Config.UserNameKey != "sub" {
		t.Errorf("connector = %+v", c)
	}
	if strings.Join(c.Config.Scopes, ",") != "profile" || c.Config.RootCAs[0] != p.K8sCAFile {
		t.Errorf("connector scopes/rootCAs = %v %v", c.Config.Scopes, c.Config.RootCAs)
	}
}
