package config

import (
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// TestPlainHTTPLoopbackRuleIsTheRuntimeRule: `config validate` and the
// provider at run time must agree on which http:// hosts count as
// loopback. "idp.localhost" passed validation, then failed at run time.
func TestPlainHTTPLoopbackRuleIsTheRuntimeRule(t *testing.T) {
	for _, issuer := range []string{"http://idp.localhost:8080", "http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080", "http://idp.example:8080"} {
		_, parseErr := Parse([]byte("providers:\n  p:\n    issuer: "+issuer+"\n    clientId: c\n    authFlow: client_credentials\n    clientSecret: s\n"), "fedtoken.yaml")
		runErr := oauth.CheckEndpointURL(issuer, false)
		if (parseErr == nil) != (runErr == nil) {
			t.Errorf("issuer %s: config says %v, run time says %v; they must agree", issuer, parseErr, runErr)
		}
		if parseErr != nil && !strings.Contains(parseErr.Error(), "http://") {
			t.Errorf("issuer %s: error %v does not name the URL", issuer, parseErr)
		}
	}
}
