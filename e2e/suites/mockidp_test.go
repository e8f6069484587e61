//go:build e2e

package suites

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// mockidpGrant posts the service-account token to issuer's token endpoint:
// as federated client_assertion (client_credentials) or as jwt-bearer
// assertion of the public client.
func mockidpGrant(t *testing.T, ctx context.Context, e *harness.Env, issuer, grant, sa string) tokenResponse {
	t.Helper()
	form := url.Values{}
	switch grant {
	case "client_credentials":
		form.Set("grant_type", "client_credentials")
		form.Set("client_assertion_type", clientAssertionTypeJWT)
		form.Set("client_assertion", sa)
	case "jwt_bearer":
		form.Set("grant_type", jwtBearerGrant)
		form.Set("client_id", mockidp.JWTBearerClientID)
		form.Set("assertion", sa)
	default:
		t.Fatalf("unknown grant %q", grant)
	}
	return postToken(t, ctx, e.MockIdP.TokenEndpoint(issuer), form, "", "")
}

// mockidpRejection waits for mockidp's request log to hold a rejection of
// grant ("" for any) at issuer's token endpoint whose description contains
// every string of want, and returns the newest.
func mockidpRejection(t *testing.T, ctx context.Context, e *harness.Env, issuer, grant, check string, want ...string) mockidp.Request {
	t.Helper()
	var found mockidp.Request
	what := fmt.Sprintf("mockidp %s to log a %q rejection naming %q", issuer, check, want)
	if grant != "" {
		what = fmt.Sprintf("mockidp %s to log a %q rejection of %s naming %q", issuer, check, grant, want)
	}
	err := wait.Until(ctx, what, 10*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		reqs, err := e.MockIdP.Requests()
		if err != nil {
			return false, err
		}
		for _, r := range slices.Backward(reqs) {
			if r.Issuer != issuer || r.Endpoint != "token" || r.Check != check || (grant != "" && r.Grant != grant) {
				continue
			}
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(r.Description, w)
			}
			if ok {
				found = r
				return true, nil
			}
		}
		return false, wait.NotYet("%d requests logged, none matches", len(reqs))
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// mockidp trusts the real cluster issuer (https discovery and JWKS, the
// cluster CA) with one trust policy per issuer, each pinned to its own URL:
// the workload's token works at the issuer it was projected for, and is
// refused by the other issuer and for an unrelated audience, with the
// failed check ("audience") and the presented audience in the answer.
func TestMockIdPTrustsTheClusterIssuer(t *testing.T) {
	e := requireMockIdP(t)
	ctx := testContext(t, 2*time.Minute)
	const wrong = "https://wrong-audience.e2e.invalid"
	sub := e.MockIdP.Params().Subject()
	for _, grant := range []string{"client_credentials", "jwt_bearer"} {
		for _, issuer := range mockidp.Issuers {
			other := mockidp.Staging
			if issuer == mockidp.Staging {
				other = mockidp.Prod
			}
			wantErr := "invalid_client"
			if grant == "jwt_bearer" {
				wantErr = "invalid_grant"
			}
			t.Run(grant+"/"+issuer, func(t *testing.T) {
				sa := requestToken(t, ctx, e.MockIdP.Issuer(issuer))
				resp := mockidpGrant(t, ctx, e, issuer, grant, sa)
				if resp.Status != http.StatusOK {
					t.Fatalf("%s at %s with aud=%s: %s", grant, issuer, e.MockIdP.Issuer(issuer), errorBody(resp))
				}
				at := claims(t, resp.str("access_token"))
				wantSub := sub
				if grant == "client_credentials" {
					wantSub = mockidp.FederatedClientID
				}
				if at["iss"] != e.MockIdP.Issuer(issuer) || at["sub"] != wantSub {
					t.Errorf("access token iss=%v sub=%v, want %s and %s", at["iss"], at["sub"], e.MockIdP.Issuer(issuer), wantSub)
				}
				if resp.Body["expires_in"] != float64(60) {
					t.Errorf("expires_in = %v, want 60 (accessTokenLifetime)", resp.Body["expires_in"])
				}
			})
			for _, aud := range []string{e.MockIdP.Issuer(other), wrong} {
				t.Run(grant+"/"+issuer+" refuses aud "+aud, func(t *testing.T) {
					sa := requestToken(t, ctx, aud)
					resp := mockidpGrant(t, ctx, e, issuer, grant, sa)
					if resp.Status == http.StatusOK {
						t.Fatalf("mockidp %s issued a token for a service-account token with aud=%s", issuer, aud)
					}
					desc := resp.str("error_description")
					if resp.str("error") != wantErr || !strings.Contains(desc, "audience") || !strings.Contains(desc, aud) {
						t.Errorf("rejection = %s, want error=%s naming the audience %s", errorBody(resp), wantErr, aud)
					}
					// The same audience was refused for the other grant just
					// before: match this grant's line, which may be logged a
					// moment after the answer.
					r := mockidpRejection(t, ctx, e, issuer, grant, "audience", aud, e.MockIdP.Issuer(issuer))
					if r.Outcome != wantErr {
						t.Errorf("logged outcome %q, want %s", r.Outcome, wantErr)
					}
				})
			}
		}
	}
}

// The issuer "discovery" trusts the cluster through its https discovery
// document and the cluster CA, as a real deployment configures mockidp
// (kube-apiserver serves the JWKS only as application/jwk-set+json).
func TestMockIdPDiscoversTheClusterIssuer(t *testing.T) {
	e := requireMockIdP(t)
	ctx := testContext(t, time.Minute)
	sa := requestToken(t, ctx, e.MockIdP.Issuer(mockidp.Discovery))
	resp := mockidpGrant(t, ctx, e, mockidp.Discovery, "client_credentials", sa)
	if resp.Status == http.StatusOK {
		if at := claims(t, resp.str("access_token")); at["iss"] != e.MockIdP.Issuer(mockidp.Discovery) {
			t.Errorf("access token iss=%v, want %s", at["iss"], e.MockIdP.Issuer(mockidp.Discovery))
		}
		return
	}
	t.Fatalf("client_credentials at the discovery issuer: %s", errorBody(resp))
}
