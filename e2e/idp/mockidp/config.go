// Package mockidp runs fedtoken's own test IdP (the fedtoken-mockidp binary
// from `make build`) for the e2e suites: one process serving two issuers,
// prod and staging, each with a trust policy for the real cluster's
// service-account issuer (its https discovery and JWKS, verified with the
// cluster CA), pinned to the issuer's own URL as audience.
package mockidp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Names the suites use.
const (
	Prod    = "prod"
	Staging = "staging"
	// Discovery is a third issuer, used by the discovery suite on its
	// own; like the others it fetches the cluster's keys through its https
	// discovery document (discoveryURL + caFile).
	Discovery = "discovery"
	// TrustName is the trust policy of each issuer that accepts the
	// cluster's service-account tokens.
	TrustName = "kubernetes"
	// FederatedClientID is the confidential client that authenticates with
	// the projected token as federated client_assertion (client_credentials).
	FederatedClientID = "workload"
	// JWTBearerClientID is the public client of the jwt_bearer grant.
	JWTBearerClientID = "k8s-runner"
	// SeedClientID is the seed's multi-provider jwt_bearer client
	// (deploy/config/multi), public like JWTBearerClientID.
	SeedClientID = "k8s-bot"
	// KeyClientID is the client with a registered public key that signs
	// its own jwt-bearer assertions (fedtoken's jwt_bearer_key, the
	// service-account-key pattern); Start writes its key pair.
	KeyClientID = "svc-key"
)

// Issuers are the issuers the suites get tokens from (Config also
// declares Discovery, after them).
var Issuers = []string{Prod, Staging}

// Params are the values the configuration depends on.
type Params struct {
	BaseURL             string // scheme://host:port the issuers are published under
	ListenAddr          string // host:port mockidp listens on
	K8sIssuer           string // the cluster's service-account issuer (https)
	K8sCAFile           string // PEM trusting K8sIssuer's TLS certificate
	Namespace           string // the workload's namespace
	ServiceAccount      string // the workload's service account
	AccessTokenLifetime string // Go duration, e.g. 60s
	// ExtraSubjects are more subjects (exact or glob) the trust policies
	// accept, e.g. the seed workloads' service account.
	ExtraSubjects []string
	// KeyClientPublicKey is the PEM public key file of KeyClientID
	// (filled in by Start); without it the client is left out.
	KeyClientPublicKey string
}

// IssuerURL is the URL of issuer name under base.
func IssuerURL(base, name string) string { return strings.TrimSuffix(base, "/") + "/" + name }

// Subject is the sub of the workload's service-account tokens.
func (p Params) Subject() string {
	return "system:serviceaccount:" + p.Namespace + ":" + p.ServiceAccount
}

// Config renders mockidp's YAML configuration. Each issuer trusts the
// cluster's service-account issuer through its discovery document over
// TLS (the cluster CA), accepts
// only tokens whose aud contains the issuer's own URL (audience pinning)
// and whose sub is a service account of the workload's namespace, and has
// a federated client bound to the workload's subject, a public
// jwt_bearer client and, given its public key, the key client.
func Config(p Params) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nbaseURL: %s\nissuers:\n", p.ListenAddr, p.BaseURL)
	var quoted []string
	for _, sub := range append([]string{"system:serviceaccount:" + p.Namespace + ":*"}, p.ExtraSubjects...) {
		quoted = append(quoted, strconv.Quote(sub))
	}
	subjects := strings.Join(quoted, ", ")
	for _, name := range append(slices.Clone(Issuers), Discovery) {
		keys := fmt.Sprintf("discoveryURL: %s/.well-known/openid-configuration\n    caFile: %s", p.K8sIssuer, p.K8sCAFile)
		fmt.Fprintf(&b, `- name: %s
  accessTokenLifetime: %s
  trust:
  - name: %s
    issuer: %s
    %s
    audiences: [%s]
    subjects: [%s]
    clockSkew: 30s
  clients:
  - id: %s
    federated:
      trust: %s
      subject: %s
    grants: [client_credentials]
  - id: %s
    public: true
    grants: [jwt_bearer]
  - id: %s
    public: true
    grants: [jwt_bearer]
`, name, p.AccessTokenLifetime, TrustName, p.K8sIssuer, keys,
			IssuerURL(p.BaseURL, name), subjects,
			FederatedClientID, TrustName, p.Subject(), JWTBearerClientID, SeedClientID)
		if p.KeyClientPublicKey != "" {
			fmt.Fprintf(&b, "  - id: %s\n    publicKeyFile: %s\n    grants: [jwt_bearer]\n", KeyClientID, p.KeyClientPublicKey)
		}
	}
	return b.String()
}
