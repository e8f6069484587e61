//go:build e2e

package suites

import "fmt"

// federatedProvider is one provider of a sidecar config, indented under
// "providers:": federated client_credentials with the pod's projected token
// (at tokenPath; "" for the default path) at issuer, for an app calling
// baseURL. Every pod suite that trusts Keycloak's or mockidp's federated
// client this way builds its config from it.
func federatedProvider(name, issuer, clientID, baseURL, tokenPath string) string {
	s := fmt.Sprintf(`  %s:
    issuer: %s
    clientId: %s
    baseURL: %s
    authFlow: client_credentials
    clientAuth:
      method: federated
    subjectTokenSource:
      type: kubernetes_sa
`, name, issuer, clientID, baseURL)
	if tokenPath != "" {
		s += "      tokenPath: " + tokenPath + "\n"
	}
	return s + "    allowInsecureHTTP: true\n"
}
