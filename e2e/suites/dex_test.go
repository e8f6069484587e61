//go:build e2e

package suites

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/idp/dex"
)

// Dex token exchange over raw HTTP (idp-wire.md §A): connector_id,
// subject_token_type id_token, client by HTTP Basic.
func TestDexTokenExchangeRaw(t *testing.T) {
	e := requireDex(t)
	ctx := testContext(t, 2*time.Minute)
	exchange := func(t *testing.T, subjectToken, subjectType string) tokenResponse {
		return postToken(t, ctx, e.Dex.TokenEndpoint(), url.Values{
			"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"connector_id":       {dex.ConnectorID},
			"subject_token":      {subjectToken},
			"subject_token_type": {subjectType},
			"scope":              {"openid profile"},
		}, dex.ClientID, e.DexClientSecret)
	}

	t.Run("exchange succeeds", func(t *testing.T) {
		sa := requestToken(t, ctx, e.Dex.Issuer())
		resp := exchange(t, sa, dex.SubjectTypeIDToken)
		if resp.Status != http.StatusOK {
			t.Fatalf("token exchange: %s", errorBody(resp))
		}
		if got := resp.str("issued_token_type"); got != "urn:ietf:params:oauth:token-type:access_token" {
			t.Errorf("issued_token_type = %q", got)
		}
		at := claims(t, resp.str("access_token"))
		saSub := claims(t, sa)["sub"]
		if at["iss"] != e.Dex.Issuer() || at["name"] != saSub {
			t.Errorf("access token iss=%v name=%v, want %s and the service account %v", at["iss"], at["name"], e.Dex.Issuer(), saSub)
		}
	})

	// Dex v2.45.1 never checks the subject token's aud: a token minted for an
	// unrelated audience is exchanged just the same. docs/idp/dex.md warns.
	t.Run("dex does not check the audience", func(t *testing.T) {
		sa := requestToken(t, ctx, "https://unrelated-audience.e2e.invalid")
		resp := exchange(t, sa, dex.SubjectTypeIDToken)
		if resp.Status != http.StatusOK {
			t.Fatalf("Dex now rejects a foreign audience (%s): update docs/idp/dex.md and this test", errorBody(resp))
		}
	})

	t.Run("jwt subject type is not supported", func(t *testing.T) {
		sa := requestToken(t, ctx, e.Dex.Issuer())
		resp := exchange(t, sa, "urn:ietf:params:oauth:token-type:jwt")
		if resp.Status != http.StatusBadRequest || resp.str("error") != "request_not_supported" {
			t.Fatalf("got %s, want 400 request_not_supported", errorBody(resp))
		}
	})

	t.Run("wrong client secret is rejected", func(t *testing.T) {
		sa := requestToken(t, ctx, e.Dex.Issuer())
		resp := postToken(t, ctx, e.Dex.TokenEndpoint(), url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "connector_id": {dex.ConnectorID},
			"subject_token": {sa}, "subject_token_type": {dex.SubjectTypeIDToken},
		}, dex.ClientID, "not-the-secret")
		if resp.Status != http.StatusUnauthorized || resp.str("error") != "invalid_client" {
			t.Fatalf("got %s, want 401 invalid_client", errorBody(resp))
		}
	})

	t.Run("token signed by another issuer is rejected", func(t *testing.T) {
		// A syntactically valid JWT that no key of the cluster signed.
		forged := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZvcmdlZCJ9." +
			"eyJpc3MiOiJodHRwczovLzEyNy4wLjAuMTo2NDQzIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmUyZTp3b3JrbG9hZCIsImV4cCI6NDEwMjQ0NDgwMH0." +
			"c2lnbmF0dXJl"
		resp := exchange(t, forged, dex.SubjectTypeIDToken)
		if resp.Status == http.StatusOK {
			t.Fatal("Dex exchanged a forged token")
		}
	})
}
