package mockidp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/fedtoken/fedtoken/mockidp"
	"github.com/fedtoken/fedtoken/mockidp/mockidptest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestIssuedSecretsAreRecorded: the secret scanner needs the literal values
// an IdP issued.
func TestIssuedSecretsAreRecorded(t *testing.T) {
	var rec lockedBuffer
	idp := mockidptest.Start(t, mockidp.WithConfig(mockidp.Config{Issuers: []mockidp.IssuerConfig{{
		Name: "prod", Clients: []mockidp.ClientConfig{{ID: "app", Secret: "app-secret-value", Grants: []string{"client_credentials"}}},
	}}}), mockidp.WithIssuedSecrets(&rec))
	resp, err := http.PostForm(idp.IssuerURL("prod")+"/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"app-secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token response: %v %+v", err, body)
	}
	got := rec.String()
	for _, want := range []string{"app-secret-value", body.AccessToken} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("issued secrets lack %.10q…", want)
		}
	}
}
