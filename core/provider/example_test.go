package provider_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"
)

// exampleIdP stands in for the organisation's IdP and for the API the token
// is for; real deployments point the config at their own.
func exampleIdP() (idp, api *httptest.Server, subjectPath string, cleanup func()) {
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-for-`+r.PostFormValue("grant_type")[len("urn:ietf:params:oauth:grant-type:"):]+`","token_type":"bearer","expires_in":3600}`)
	}))
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "API saw %q", r.Header.Get("Authorization"))
	}))
	dir, err := os.MkdirTemp("", "fedtoken-example")
	if err != nil {
		log.Fatal(err)
	}
	subjectPath = filepath.Join(dir, "token") // the kubelet's projected token in a real pod
	if err := os.WriteFile(subjectPath, []byte(fakeJWT(map[string]any{"sub": "system:serviceaccount:ai-jobs:opencode-runner",
		"exp": time.Now().Add(time.Hour).Unix()})), 0o600); err != nil {
		log.Fatal(err)
	}
	return idp, api, subjectPath, func() { idp.Close(); api.Close(); os.RemoveAll(dir) }
}

// A CronJob-style one-shot: read the same opencode.json the upstream plugin
// reads, get one access token with the pod's projected ServiceAccount token
// (RFC 7523 jwt-bearer), call the API, exit.
func Example_oneShot() {
	idp, api, subjectPath, cleanup := exampleIdP()
	defer cleanup()

	cfg, err := config.Parse([]byte(`{
  "provider": {
    "miaou": {
      "options": {
        "baseURL": "`+api.URL+`",
        "oauth2": {
          "tokenEndpoint": "`+idp.URL+`/token",
          "clientId": "k8s-runner",
          "scopes": ["openid"],
          "authFlow": "jwt_bearer",
          "subjectTokenSource": {"type": "kubernetes_sa", "tokenPath": "`+subjectPath+`"}
        }
      }
    }
  }
}`), "opencode.json")
	if err != nil {
		log.Fatal(err)
	}
	pc, err := cfg.Provider("") // the only provider
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(*pc)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: p.Transport(nil)}
	resp, err := client.Get(pc.BaseURL + "/v1/models")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: API saw "Bearer at-for-jwt-bearer"
}

// A long-running service (the seed's Slack bot): Run replaces the token
// ahead of its expiry in the background, so requests never wait on the IdP,
// and the subject token is re-read on every acquisition as the kubelet
// rotates it.
func Example_longRunning() {
	idp, api, subjectPath, cleanup := exampleIdP()
	defer cleanup()

	cfg, err := config.Parse([]byte(`
providers:
  miaou:
    baseURL: `+api.URL+`
    tokenEndpoint: `+idp.URL+`/token
    clientId: k8s-bot
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: "`+subjectPath+`"}
`), "fedtoken.yaml")
	if err != nil {
		log.Fatal(err)
	}
	pc, err := cfg.Provider("miaou")
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(*pc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go p.Run(ctx) // until the service shuts down

	tok, err := p.TokenContext(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.AccessToken, time.Until(tok.Expiry) > 59*time.Minute)
	// Output: Bearer at-for-jwt-bearer true
}
