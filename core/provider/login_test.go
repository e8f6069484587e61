package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/providertest"
)

// deviceIdP answers a device authorization and then, on the first poll,
// the token: the person "approved" at once.
func deviceIdP(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device":
			if r.PostForm.Get("client_id") != "cli" || r.PostForm.Get("code_challenge_method") != "S256" {
				http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH",
				"verification_uri": "https://idp.example/activate", "expires_in": 600, "interval": 5})
		case "/token":
			if r.PostForm.Get("device_code") != "dc" || r.PostForm.Get("code_verifier") == "" {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"access_token": "laptop-at", "token_type": "Bearer",
				"expires_in": 3600, "refresh_token": "laptop-rt"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLoginDeviceCodeStoresToken(t *testing.T) {
	idp := deviceIdP(t)
	pkce := true
	cfg := config.Provider{ID: "laptop", ClientID: "cli", TokenEndpoint: idp.URL + "/token",
		DeviceAuthorizationEndpoint: idp.URL + "/device", AuthFlow: config.FlowDeviceCode, PKCE: &pkce,
		HTTPTimeout: 5 * time.Second, TokenExpirySkew: 30 * time.Second}
	store := &cache.MemoryStore{}
	noWait := func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	p, err := provider.New(cfg, provider.WithStore(store), providertest.WithClock(nil, noWait))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Nobody to show the code to: refused before any request.
	if _, err := p.Login(ctx, login.UI{}); !errors.Is(err, login.ErrNonInteractive) {
		t.Fatalf("Login without a UI: %v, want ErrNonInteractive", err)
	}

	var shown []login.Prompt
	tok, err := p.Login(ctx, login.UI{Show: func(pr login.Prompt) { shown = append(shown, pr) }})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "laptop-at" || tok.RefreshToken != "laptop-rt" {
		t.Fatalf("Login = %q/%q", tok.AccessToken, tok.RefreshToken)
	}
	if len(shown) != 1 || shown[0].UserCode != "ABCD-EFGH" || shown[0].VerificationURI != "https://idp.example/activate" {
		t.Fatalf("prompts = %+v, want the user code and verification URI once", shown)
	}
	// The stored token serves later calls without a login.
	got, err := p.TokenContext(ctx)
	if err != nil || got.AccessToken != "laptop-at" {
		t.Fatalf("TokenContext after login = %v, %v", got, err)
	}
	if stored, _ := store.Load(ctx, p.CacheKey()); stored == nil || stored.RefreshToken != "laptop-rt" {
		t.Fatal("the login's token was not stored with its refresh token")
	}
}

func TestLoginRefusedForMachineFlows(t *testing.T) {
	cfg := jwtBearerConfig("https://idp.example/token", "/var/run/secrets/tokens/oauth2/token")
	p, err := provider.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Login(context.Background(), login.UI{Show: func(login.Prompt) {}})
	if err == nil || !strings.Contains(err.Error(), "needs no login") {
		t.Fatalf("err = %v, want a refusal saying jwt_bearer needs no login", err)
	}
}
