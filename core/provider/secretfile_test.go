package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"
)

// A clientSecretFile is a mounted Kubernetes Secret that rotates in place:
// every acquisition reads it again, as it does the subject token.
func TestClientSecretFileIsRereadPerAcquisition(t *testing.T) {
	secretPath := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretPath, []byte("first-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var seen []string // written by the handler, read after the requests returned
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, secret, ok := r.BasicAuth(); ok {
			seen = append(seen, secret)
		}
		tokenJSON(w, "at", 3600)
	}))
	t.Cleanup(idp.Close)
	cfg := config.Provider{ID: "batch", ClientID: "batch", ClientSecretFile: secretPath, TokenEndpoint: idp.URL + "/token",
		AuthFlow: config.FlowClientCredentials, HTTPTimeout: 5 * time.Second, TokenExpirySkew: 30 * time.Second}
	p, err := provider.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := p.TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretPath, []byte("second-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Invalidate(tok)
	if _, err := p.TokenContext(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != "first-secret" || seen[1] != "second-secret" {
		t.Fatalf("IdP saw secrets %q, want the first then the rotated one", seen)
	}
}
