package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/provider"
)

// In opencode.json a client secret goes in the form body, as the plugin
// sends it; native configs keep client_secret_basic; clientAuth.method
// says otherwise in either shape.
func TestPluginClientSecretInForm(t *testing.T) {
	type seen struct {
		form url.Values
		auth string
	}
	var mu sync.Mutex
	var got []seen
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = append(got, seen{r.PostForm, r.Header.Get("Authorization")})
		mu.Unlock()
		tokenJSON(w, "at", 3600)
	}))
	defer idp.Close()
	oauth2 := `{"tokenEndpoint": "` + idp.URL + `/token", "clientId": "bot", "clientSecret": "s3cret-value", "authFlow": "client_credentials"%s}`
	for _, c := range []struct {
		name, file, data string
		post             bool
	}{
		{"opencode", "opencode.json", `{"provider": {"p": {"options": {"oauth2": ` + strings.Replace(oauth2, "%s", "", 1) + `}}}}`, true},
		{"opencode basic", "opencode.json", `{"provider": {"p": {"options": {"oauth2": ` + strings.Replace(oauth2, "%s", `, "clientAuth": {"method": "client_secret_basic"}`, 1) + `}}}}`, false},
		{"native", "fedtoken.json", `{"providers": {"p": ` + strings.Replace(oauth2, "%s", "", 1) + `}}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := config.Parse([]byte(c.data), c.file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := provider.New(f.Providers[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.TokenContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			last := got[len(got)-1]
			mu.Unlock()
			inForm := last.form.Get("client_secret") == "s3cret-value" && last.form.Get("client_id") == "bot"
			basic := strings.HasPrefix(last.auth, "Basic ")
			if inForm != c.post || basic == c.post {
				t.Errorf("client_secret in form %v, Basic header %v; want form %v", inForm, basic, c.post)
			}
		})
	}
}

// redirectPath (default the plugin's /oauth2/callback) is the path of the
// loopback redirect URI.
func TestPluginRedirectPath(t *testing.T) {
	for extra, want := range map[string]string{"": "/oauth2/callback", `, "redirectPath": "/cb"`: "/cb"} {
		f, err := config.Parse([]byte(`{"provider": {"p": {"options": {"oauth2": {
		  "authorizationEndpoint": "https://idp.example/auth", "tokenEndpoint": "https://idp.example/token",
		  "clientId": "laptop", "scopes": ["openid"]`+extra+`}}}}}`), "opencode.json")
		if err != nil {
			t.Fatal(err)
		}
		p, err := provider.New(f.Providers[0])
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var shown string
		_, _ = p.Login(ctx, login.UI{Show: func(pr login.Prompt) { shown = pr.AuthorizeURL; cancel() }})
		cancel()
		u, err := url.Parse(shown)
		if err != nil {
			t.Fatal(err)
		}
		ru, err := url.Parse(u.Query().Get("redirect_uri"))
		if err != nil || ru.Host == "" || ru.Path != want {
			t.Errorf("redirectPath %q: redirect_uri %q, want path %s", extra, u.Query().Get("redirect_uri"), want)
		}
	}
}
