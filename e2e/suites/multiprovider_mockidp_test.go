//go:build e2e

package suites

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
)

// Multi-provider against mockidp's two issuers in one process: one pod, two
// projected tokens (audiences: the prod and the staging issuer) at two
// paths, one sidecar serving "prod" (federated client_credentials) and
// "staging" (jwt_bearer). Each app gets access tokens only from its own
// issuer; every request mockidp saw from the pod was accepted — each issuer
// pins the audience to itself, so a provider reading the other's path
// would have been refused; and the staging token replayed to prod is
// refused with the failed check named.
func TestSidecarMultiProviderMockIdP(t *testing.T) {
	e := requireMockIdP(t)
	sidecarImage, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	ctx := testContext(t, 5*time.Minute)
	prod, staging := e.MockIdP.Issuer(mockidp.Prod), e.MockIdP.Issuer(mockidp.Staging)
	before, err := e.MockIdP.Requests()
	if err != nil {
		t.Fatal(err)
	}
	const name = "multi-provider-mockidp"
	config := "providers:\n" + federatedProvider("prod", prod, mockidp.FederatedClientID, "http://127.0.0.1:8080", "/var/run/secrets/tokens/prod/token") + fmt.Sprintf(`  staging:
    issuer: %s
    clientId: %s
    baseURL: http://127.0.0.1:8081
    authFlow: jwt_bearer
    clientAuth:
      method: none
    subjectTokenSource:
      type: kubernetes_sa
      tokenPath: /var/run/secrets/tokens/staging/token
    allowInsecureHTTP: true
`, staging, mockidp.JWTBearerClientID)
	running := runTwoProviderPod(t, ctx, e, name, config, prod, staging, sidecarImage)

	// What mockidp saw from the pod: prod only client_credentials, staging
	// only jwt_bearer, every one accepted (its audience matched the issuer).
	after, err := e.MockIdP.Requests()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{mockidp.Prod: "client_credentials", mockidp.Staging: "jwt_bearer"}
	seen := map[string]int{}
	for _, r := range after[len(before):] {
		if r.Endpoint != "token" {
			continue
		}
		seen[r.Issuer]++
		if r.Grant != want[r.Issuer] || r.Outcome != "ok" {
			t.Errorf("mockidp %s: %s request answered %s (check %q: %s); want only accepted %s requests", r.Issuer, r.Grant, r.Outcome, r.Check, r.Description, want[r.Issuer])
		}
	}
	if seen[mockidp.Prod] == 0 || seen[mockidp.Staging] == 0 {
		t.Errorf("token requests per issuer: %v, want both", seen)
	}

	// The staging token replayed to prod is refused, as client assertion and
	// as jwt-bearer assertion, and mockidp says the audience check failed.
	stagingDir, err := e.Cluster.PodVolumeDir(running, "staging-token")
	if err != nil {
		t.Skipf("cannot read the node's volumes from the host: %v", err)
	}
	_, stagingTok := readProjected(t, stagingDir)
	if a := audiences(claims(t, stagingTok)); len(a) != 1 || a[0] != staging {
		t.Fatalf("staging token aud = %v, want [%s]", a, staging)
	}
	for grant, wantErr := range map[string]string{"client_credentials": "invalid_client", "jwt_bearer": "invalid_grant"} {
		resp := mockidpGrant(t, ctx, e, mockidp.Prod, grant, stagingTok)
		if resp.Status == http.StatusOK || resp.str("error") != wantErr || !strings.Contains(resp.str("error_description"), "audience ["+staging+"] not in allowed ["+prod) {
			t.Errorf("staging token replayed to prod (%s): %s, want %s naming the audience check", grant, errorBody(resp), wantErr)
		}
	}
	r := mockidpRejection(t, ctx, e, mockidp.Prod, "", "audience", staging)
	t.Logf("mockidp prod refused the replayed staging token: %s: %s", r.Outcome, r.Description)
}
