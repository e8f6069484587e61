package grant_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// exampleIdP stands in for the IdP's token endpoint: it answers every
// grant with a token named after the grant type.
func exampleIdP() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-for-%s","token_type":"bearer","expires_in":3600}`, r.PostFormValue("grant_type"))
	}))
}

// RFC 7523 jwt-bearer: the workload's identity token is the grant. A
// grant is a plain struct and an oauth2.TokenSource; every call is one
// request to the IdP, so wrap it in cache.New to reuse the token.
func ExampleJWTBearer() {
	idp := exampleIdP()
	defer idp.Close()

	g := &grant.JWTBearer{
		Endpoint: grant.Endpoint{TokenURL: idp.URL + "/token"},
		Auth:     oauth.ClientAuth{ClientID: "k8s-runner"},
		// In a pod: subject.KubernetesSA{}, the projected token, read
		// afresh on every acquisition.
		Assertion: subject.Static("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2ln"),
		Scopes:    []string{"openid"},
	}
	src := cache.New(g)
	tok, err := src.TokenContext(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.AccessToken)
	// Output: Bearer at-for-urn:ietf:params:oauth:grant-type:jwt-bearer
}

// client_credentials with a client secret: no subject token at all.
func ExampleClientCredentials() {
	idp := exampleIdP()
	defer idp.Close()

	g := &grant.ClientCredentials{
		Endpoint: grant.Endpoint{TokenURL: idp.URL + "/token"},
		Auth:     oauth.ClientAuth{Method: oauth.AuthClientSecretBasic, ClientID: "batch", ClientSecret: "example-secret"},
		Scopes:   []string{"llm:invoke"},
	}
	tok, err := g.TokenContext(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.AccessToken)
	// Output: Bearer at-for-client_credentials
}
