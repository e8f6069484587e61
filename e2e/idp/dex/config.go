// Package dex runs Dex (built by install-peers.sh) for the e2e suites. The
// configuration here is exactly what the suites use; docs/idp/dex.md shows
// it (testdata/config.golden.yaml, kept in sync by `go test -update`).
package dex

import (
	"fmt"
	"strings"
)

// Names the suites and docs use.
const (
	ConnectorID        = "kubernetes"
	ClientID           = "token-exchanger"
	SubjectTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
)

// Params are the values the configuration depends on.
type Params struct {
	Issuer       string // Dex's own issuer, e.g. http://10.213.0.1:5556/dex
	ListenAddr   string // host:port Dex serves HTTP on
	K8sIssuer    string // the Kubernetes service-account issuer (https)
	K8sCAFile    string // PEM trusting K8sIssuer's TLS certificate
	ClientSecret string // the static client's secret
}

// Config renders Dex's YAML configuration: memory storage, one static
// confidential client, and an OIDC connector that trusts the Kubernetes
// issuer for token exchange. Service-account tokens carry no "name" or
// "email", so the connector reads the user name from "sub" and asks only
// for the "profile" scope (the default "email" scope would make Dex demand
// email and email_verified). Dex does NOT check the subject token's "aud".
func Config(p Params) string {
	return fmt.Sprintf(`issuer: %s
storage:
  type: memory
web:
  http: %s
logger:
  level: debug
  format: text
oauth2:
  skipApprovalScreen: true
expiry:
  idTokens: 10m
staticClients:
- id: %s
  name: fedtoken token exchanger
  secret: %s
  redirectURIs:
  - http://127.0.0.1/unused
connectors:
- type: oidc
  id: %s
  name: Kubernetes
  config:
    issuer: %s
    rootCAs:
    - %s
    scopes:
    - profile
    userNameKey: sub
`, p.Issuer, p.ListenAddr, ClientID, yamlQuote(p.ClientSecret), ConnectorID, p.K8sIssuer, p.K8sCAFile)
}

func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
