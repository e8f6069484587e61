package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Deterministic test credentials (fixtures, not real secrets).
const (
	testClientSecret  = "client-secret-Zq8vX2"
	testSubjectToken  = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZTJlOndvcmtsb2FkIn0.c2lnbmF0dXJlLW9mLXRoZS1zdWJqZWN0LXRva2Vu"
	testActorToken    = "actor-token-Yh3kP9mW"
	testRefreshToken  = "refresh-token-Lm4nB7"
	testFederatedJWT  = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJmZWRlcmF0ZWQifQ.ZmVkZXJhdGVkLXNpZ25hdHVyZS12YWx1ZQ"
	testDeviceCode    = "device-code-Qr5sT1"
	testCodeVerifier  = "code-verifier-Uv6wX0-long-enough"
	testAuthorization = "authz-code-Ab1cD2"
)

// echoIdP answers every request with an error that repeats everything it
// received — the worst case of an IdP that reflects its input.
func echoIdP(t *testing.T, status int, asHTML bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw := string(body)
		decoded, _ := url.QueryUnescape(raw)
		echo := "got " + raw + " decoded " + decoded + " auth " + r.Header.Get("Authorization")
		if asHTML {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<html><title>%s</title><body>%s</body></html>", html.EscapeString(echo), echo)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q,"error_uri":%q}`, echo, "https://idp/doc?t="+decoded)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestNoSecretInErrors(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auths := map[string]ClientAuth{
		"basic":           {Method: AuthClientSecretBasic, ClientID: "cli", ClientSecret: testClientSecret},
		"post":            {Method: AuthClientSecretPost, ClientID: "cli", ClientSecret: testClientSecret},
		"none":            {Method: AuthNone, ClientID: "cli"},
		"private_key_jwt": {Method: AuthPrivateKeyJWT, ClientID: "cli", PrivateKey: key},
		"federated": {Method: AuthFederated, ClientID: "cli", Assertion: func(context.Context) (string, error) {
			return testFederatedJWT, nil
		}},
	}
	form := url.Values{
		"grant_type":    {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {testSubjectToken},
		"actor_token":   {testActorToken},
		"assertion":     {testSubjectToken},
		"refresh_token": {testRefreshToken},
		"device_code":   {testDeviceCode},
		"code_verifier": {testCodeVerifier},
		"code":          {testAuthorization},
	}
	secrets := []string{testClientSecret, testSubjectToken, testActorToken, testRefreshToken, testFederatedJWT,
		testDeviceCode, testCodeVerifier, testAuthorization,
		base64.StdEncoding.EncodeToString([]byte("cli:" + testClientSecret)),
		// the signature segments alone
		strings.Split(testSubjectToken, ".")[2], strings.Split(testFederatedJWT, ".")[2]}

	servers := map[string]*httptest.Server{
		"json 400":     echoIdP(t, 400, false),
		"json 503":     echoIdP(t, 503, false),
		"html 502":     echoIdP(t, 502, true),
		"json 200 err": echoIdP(t, 200, false),
	}
	for sname, srv := range servers {
		for aname, auth := range auths {
			t.Run(sname+"/"+aname, func(t *testing.T) {
				rec := &sleepRecorder{}
				c := &Client{HTTPClient: srv.Client(), Retry: RetryPolicy{Sleep: rec.sleep}}
				_, tokErr := c.Token(context.Background(), srv.URL+"/token", form, auth)
				_, postErr := c.PostForm(context.Background(), srv.URL+"/device", form, auth)
				for _, err := range []error{tokErr, postErr} {
					if err == nil {
						t.Fatal("want an error")
					}
					for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
						for _, s := range secrets {
							if strings.Contains(text, s) {
								t.Errorf("error leaks %q:\n%s", s, text)
							}
						}
					}
					// The IdP did echo credentials; they were replaced, not dropped silently.
					if !strings.Contains(err.Error(), "[REDACTED]") {
						t.Errorf("error %q shows no redaction; the echo did not reach it", err)
					}
				}
			})
		}
	}
}
