package mockidp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/fedtoken/fedtoken/mockidp"
)

// A cluster signs a service-account token; the issuer "prod" trusts the
// cluster and exchanges the token (jwt-bearer) for an access token. A token
// for another audience is refused, and the description says why. In tests,
// mockidptest.Start(t, opts...) does the httptest part.
func Example() {
	hs := httptest.NewUnstartedServer(nil)
	defer hs.Close()
	idp, err := mockidp.New("http://"+hs.Listener.Addr().String(),
		mockidp.WithCluster(mockidp.ClusterConfig{TrustedBy: []string{"prod"}}),
		mockidp.WithIssuer(mockidp.IssuerConfig{
			Name:    "prod",
			Clients: []mockidp.ClientConfig{{ID: "k8s-runner", Public: true}},
		}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	hs.Config.Handler = idp
	hs.Start()

	exchange := func(audience string) {
		sa, _ := idp.Cluster().Mint(mockidp.ServiceAccountToken{
			Namespace: "ai-jobs", ServiceAccount: "runner", Audiences: []string{audience},
		})
		resp, err := http.PostForm(idp.IssuerURL("prod")+"/token", url.Values{
			"grant_type": {mockidp.GrantJWTBearer}, "assertion": {sa}, "client_id": {"k8s-runner"},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
			Error       string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		fmt.Println(resp.StatusCode, body.ExpiresIn, body.Error, len(body.AccessToken) > 0)
	}
	exchange(idp.IssuerURL("prod"))
	exchange("https://elsewhere.example")
	// Output:
	// 200 300  true
	// 400 0 invalid_grant false
}
