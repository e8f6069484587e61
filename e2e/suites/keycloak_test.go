//go:build e2e

package suites

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
)

const (
	clientAssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	grantTypeJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// Keycloak federated client authentication over raw HTTP: client_credentials
// with the service-account token as client_assertion, no client_id.
func TestKeycloakFederatedClientCredentialsRaw(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, 2*time.Minute)
	realmIssuer := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	tokenURL := keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.FederatedRealm)

	tests := []struct {
		name     string
		audience string
		wantOK   bool
	}{
		{"audience is the realm issuer", realmIssuer, true},
		// Audience pinning: Keycloak accepts exactly one aud, equal to the realm issuer.
		{"wrong audience is rejected", "https://wrong-audience.e2e.invalid", false},
		{"another realm's issuer is rejected", keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.JWTGrantRealm), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa := requestToken(t, ctx, tt.audience)
			if got := audiences(claims(t, sa)); !slices.Equal(got, []string{tt.audience}) {
				t.Fatalf("TokenRequest gave aud %v, want [%s]", got, tt.audience)
			}
			resp := postToken(t, ctx, tokenURL, url.Values{
				"grant_type":            {"client_credentials"},
				"client_assertion_type": {clientAssertionTypeJWT},
				"client_assertion":      {sa},
			}, "", "")
			if !tt.wantOK {
				if resp.Status == http.StatusOK {
					t.Fatalf("Keycloak issued a token for a service-account token with aud=%s", tt.audience)
				}
				if resp.str("error") != "invalid_client" {
					t.Errorf("rejection = %s, want error=invalid_client", errorBody(resp))
				}
				return
			}
			if resp.Status != http.StatusOK {
				t.Fatalf("client_credentials: %s", errorBody(resp))
			}
			at := claims(t, resp.str("access_token"))
			if at["iss"] != realmIssuer || at["azp"] != keycloak.FederatedClientID {
				t.Errorf("access token iss=%v azp=%v, want %s and %s", at["iss"], at["azp"], realmIssuer, keycloak.FederatedClientID)
			}
			// The token's lifetime is the realm's accessTokenLifespan exactly;
			// expires_in is counted by Keycloak from the moment it answers, so a
			// second boundary crossed while answering makes it one less.
			exp, _ := at["exp"].(float64)
			iat, _ := at["iat"].(float64)
			if life := exp - iat; life != float64(keycloak.AccessTokenLifespan) {
				t.Errorf("access token exp-iat = %v s, want %d (realm accessTokenLifespan)", life, keycloak.AccessTokenLifespan)
			}
			if ei, _ := resp.Body["expires_in"].(float64); ei != float64(keycloak.AccessTokenLifespan) && ei != float64(keycloak.AccessTokenLifespan-1) {
				t.Errorf("expires_in = %v, want %d (or %d across a second boundary)", resp.Body["expires_in"], keycloak.AccessTokenLifespan, keycloak.AccessTokenLifespan-1)
			}
		})
	}
}

// Keycloak RFC 7523 JWT authorization grant over raw HTTP: the
// service-account token as assertion, the confidential client by secret,
// the user linked to the service account's sub.
func TestKeycloakJWTBearerRaw(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, 2*time.Minute)
	realmIssuer := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.JWTGrantRealm)
	tokenURL := keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.JWTGrantRealm)

	tests := []struct {
		name     string
		audience string
		wantOK   bool
	}{
		{"audience is the realm issuer", realmIssuer, true},
		{"audience is the token endpoint", tokenURL, true},
		{"wrong audience is rejected", "https://wrong-audience.e2e.invalid", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa := requestToken(t, ctx, tt.audience)
			resp := postToken(t, ctx, tokenURL, url.Values{
				"grant_type": {grantTypeJWTBearer},
				"assertion":  {sa},
			}, keycloak.JWTGrantClientID, e.KeycloakJWTGrantSecret)
			if !tt.wantOK {
				if resp.Status == http.StatusOK {
					t.Fatalf("Keycloak accepted an assertion with aud=%s", tt.audience)
				}
				if resp.str("error") != "invalid_grant" {
					t.Errorf("rejection = %s, want error=invalid_grant", errorBody(resp))
				}
				return
			}
			if resp.Status != http.StatusOK {
				t.Fatalf("jwt-bearer: %s", errorBody(resp))
			}
			at := claims(t, resp.str("access_token"))
			if at["iss"] != realmIssuer || at["preferred_username"] != keycloak.JWTGrantUser {
				t.Errorf("access token iss=%v preferred_username=%v, want %s and %s", at["iss"], at["preferred_username"], realmIssuer, keycloak.JWTGrantUser)
			}
		})
	}

	t.Run("wrong client secret is rejected", func(t *testing.T) {
		sa := requestToken(t, ctx, realmIssuer)
		resp := postToken(t, ctx, tokenURL, url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {sa}}, keycloak.JWTGrantClientID, "not-the-secret")
		// Keycloak 26.7 answers unauthorized_client here (older releases and
		// the client_credentials path: invalid_client).
		if resp.Status != http.StatusUnauthorized || (resp.str("error") != "invalid_client" && resp.str("error") != "unauthorized_client") {
			t.Fatalf("got %s, want 401 invalid_client or unauthorized_client", errorBody(resp))
		}
	})
}

// The subject the realms trust is the harness's workload.
func TestKeycloakRealmsTrustTheClusterIssuer(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, time.Minute)
	var idps []struct {
		Alias      string            `json:"alias"`
		ProviderID string            `json:"providerId"`
		Config     map[string]string `json:"config"`
	}
	if err := e.Keycloak.Get(ctx, "/admin/realms/"+keycloak.FederatedRealm+"/identity-provider/instances", &idps); err != nil {
		t.Fatal(err)
	}
	if len(idps) != 1 || idps[0].ProviderID != "kubernetes" || idps[0].Config["issuer"] != e.Cluster.Issuer() {
		t.Fatalf("identity providers of %s = %+v, want one kubernetes provider with issuer %s", keycloak.FederatedRealm, idps, e.Cluster.Issuer())
	}
	if got := e.KeycloakParams().Subject(); got != "system:serviceaccount:"+harness.Namespace+":"+harness.ServiceAccount {
		t.Errorf("subject = %s", got)
	}
}
