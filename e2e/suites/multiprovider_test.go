//go:build e2e

package suites

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
)

// Multi-provider: one pod, two projected tokens with different audiences at
// two paths, one sidecar serving two providers on two IdPs ("prod" at
// Keycloak, "staging" at Dex), an app per provider. Each provider uses only
// its own path (Keycloak logs only the prod token's jti as client
// assertion), and the staging token replayed to the prod IdP is refused.
func TestSidecarMultiProvider(t *testing.T) {
	e := requireKeycloak(t)
	if e.Dex == nil {
		t.Skip("dex not started (E2E_IDPS)")
	}
	sidecarImage, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	ctx := testContext(t, 6*time.Minute)
	prodAud := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	stagingAud := e.Dex.Issuer()
	const name = "multi-provider"
	config := "providers:\n" + federatedProvider("prod", prodAud, keycloak.FederatedClientID, "http://127.0.0.1:8080", "/var/run/secrets/tokens/prod/token") + fmt.Sprintf(`  staging:
    issuer: %s
    clientId: %s
    clientSecret: %q
    baseURL: http://127.0.0.1:8081
    scopes: [openid, profile]
    authFlow: token_exchange
    subjectTokenSource:
      type: kubernetes_sa
      tokenPath: /var/run/secrets/tokens/staging/token
    tokenExchange:
      subjectTokenType: id_token
    extraParams:
      connector_id: %s
    allowInsecureHTTP: true
`, stagingAud, dex.ClientID, e.DexClientSecret, dex.ConnectorID)
	running := runTwoProviderPod(t, ctx, e, name, config, prodAud, stagingAud, sidecarImage, "--log-level", "debug")

	// Keycloak saw only the prod path's token as client assertion.
	prodDir, err := e.Cluster.PodVolumeDir(running, "prod-token")
	if err != nil {
		t.Skipf("cannot read the node's volumes from the host: %v", err)
	}
	stagingDir, err := e.Cluster.PodVolumeDir(running, "staging-token")
	if err != nil {
		t.Fatal(err)
	}
	_, prodTok := readProjected(t, prodDir)
	_, stagingTok := readProjected(t, stagingDir)
	prodJTI, _ := claims(t, prodTok)["jti"].(string)
	stagingJTI, _ := claims(t, stagingTok)["jti"].(string)
	if a := audiences(claims(t, stagingTok)); len(a) != 1 || a[0] != stagingAud {
		t.Fatalf("staging token aud = %v, want [%s]", a, stagingAud)
	}
	kcLog, err := e.Keycloak.ReadLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(kcLog), `client_assertion_id="`+prodJTI+`"`) {
		t.Errorf("keycloak never logged the prod token (jti %s) as client assertion", prodJTI)
	}
	if strings.Contains(string(kcLog), `client_assertion_id="`+stagingJTI+`"`) {
		t.Errorf("keycloak received the staging token (jti %s): a provider read the other's path", stagingJTI)
	}

	// The staging token replayed to the prod IdP is refused.
	resp := postToken(t, ctx, keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.FederatedRealm), url.Values{
		"grant_type": {"client_credentials"}, "client_assertion_type": {clientAssertionTypeJWT}, "client_assertion": {stagingTok},
	}, "", "")
	if resp.Status == http.StatusOK || resp.str("error") != "invalid_client" {
		t.Errorf("staging token replayed to prod: %s, want invalid_client", errorBody(resp))
	}
}
