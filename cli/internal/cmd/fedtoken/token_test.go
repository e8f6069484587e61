package fedtoken_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

func TestTokenOutputFormats(t *testing.T) {
	h := newHarness(t)
	for _, format := range []string{"raw", "json", "header", "env"} {
		for _, id := range []string{"jb", "te"} {
			t.Run(id+"/"+format, func(t *testing.T) {
				r := h.run("token", id, "-o", format)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if r.stderr != "" {
					t.Errorf("stderr = %q, want nothing", r.stderr)
				}
				golden(t, "token-"+id+"-"+format, h.normalise(r.stdout))
			})
		}
	}
}

func TestTokenJSONIsTheAccessToken(t *testing.T) {
	h := newHarness(t)
	r := h.run("token", "jb", "-o", "json")
	var doc struct {
		Provider    string `json:"provider"`
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Expiry      string `json:"expiry"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	_, claims, err := jwt.Decode(doc.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, doc.Expiry)
	if err != nil || !exp.Equal(claims.ExpiresAt) {
		t.Errorf("expiry %q, access token exp %v", doc.Expiry, claims.ExpiresAt)
	}
	if doc.Provider != "jb" || doc.TokenType != "Bearer" || doc.ExpiresIn <= 0 || doc.ExpiresIn > 300 {
		t.Errorf("doc = %+v", doc)
	}
	if claims.Subject != "system:serviceaccount:ai-jobs:opencode-runner" || claims.Issuer != h.idp.IssuerURL("idp") {
		t.Errorf("access token claims = %+v", claims)
	}
}

// TestTokenWarmCache checks that the second run is served from the file
// cache: no request reaches the IdP (not even discovery). The subject
// token is read (the cached token is bound to its identity), so a run
// without one is refused rather than answered from the cache.
func TestTokenWarmCache(t *testing.T) {
	h := newHarness(t)
	first := h.run("token", "jb")
	if first.code != 0 {
		t.Fatalf("exit %d: %s", first.code, first.stderr)
	}
	served := h.idpRequests()
	second := h.run("token", "jb")
	if second.code != 0 || second.stdout != first.stdout {
		t.Fatalf("warm run: exit %d, same token %v: %s", second.code, second.stdout == first.stdout, second.stderr)
	}
	if n := h.tokenRequests(t, "jwt_bearer"); n != 1 {
		t.Errorf("IdP token requests = %d, want 1", n)
	}
	if n := h.idpRequests(); n != served {
		t.Errorf("the warm run made %d requests to the IdP (discovery included), want 0", n-served)
	}
	// Without a subject token there is no identity: the cache must not answer.
	if err := removeAll(h.tokenDir); err != nil {
		t.Fatal(err)
	}
	third := h.run("token", "jb")
	if third.code != exitcode.Subject || third.stdout != "" {
		t.Fatalf("run without a subject token: exit %d, stdout %q; want exit %d and no token", third.code, third.stdout, exitcode.Subject)
	}
}

func TestTokenNeedsProviderWhenSeveral(t *testing.T) {
	h := newHarness(t)
	r := h.run("token")
	if r.code != exitcode.Config || !strings.Contains(r.stderr, "4 providers, choose one of: browser, device, jb, te") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
}

func TestTokenOnlyProvider(t *testing.T) {
	h := newHarness(t)
	h.config = h.writeConfig(`providers:
  only:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
`)
	if r := h.run("token"); r.code != 0 || !strings.HasPrefix(r.stdout, "eyJ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
