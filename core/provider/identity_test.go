package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"
)

// envJobConfig is a CI job's provider: the subject token comes from an
// environment variable, as in GitLab CI id_tokens.
func envJobConfig(tokenURL string) config.Provider {
	return config.Provider{ID: "ci", Name: "ci", ClientID: "ci-runner", TokenEndpoint: tokenURL,
		AuthFlow:           config.FlowJWTBearer,
		SubjectTokenSource: &config.SubjectSource{Type: subject.TypeEnv, Env: "WORKLOAD_ID_TOKEN"},
		HTTPTimeout:        5 * time.Second, TokenExpirySkew: 30 * time.Second}
}

func ciToken(sub string) string {
	return fakeJWT(map[string]any{"iss": "https://gitlab.example", "sub": sub,
		"aud": "https://idp", "exp": time.Now().Add(time.Hour).Unix()})
}

// TestCachedTokenIsBoundToTheSubjectIdentity is W1: on a shared runner
// with a shared $HOME (so a shared token cache), job B of another project
// and job C without any identity must never receive job A's token.
func TestCachedTokenIsBoundToTheSubjectIdentity(t *testing.T) {
	i := newIDP(t, func(w http.ResponseWriter, n int, form map[string][]string) {
		tokenJSON(w, fmt.Sprintf("access-%d", n), 3600)
	})
	store := cache.FileStore{Dir: t.TempDir()}
	job := func(subjectToken string) (string, error) {
		cfg := envJobConfig(i.URL + "/token")
		p, err := provider.New(cfg, provider.WithStore(store))
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("WORKLOAD_ID_TOKEN", subjectToken)
		tok, err := p.TokenContext(context.Background())
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}

	a, err := job(ciToken("project_path:team-a/app:ref:main"))
	if err != nil || a != "access-0" {
		t.Fatalf("job A: %q, %v; want access-0", a, err)
	}
	again, err := job(ciToken("project_path:team-a/app:ref:main"))
	if err != nil || again != a {
		t.Fatalf("job A again (same identity): %q, %v; want the cached %q", again, err, a)
	}
	if n := len(i.requests()); n != 1 {
		t.Fatalf("IdP requests after two runs of job A = %d, want 1 (warm cache)", n)
	}

	b, err := job(ciToken("project_path:team-b/other:ref:main"))
	if err != nil {
		t.Fatalf("job B: %v", err)
	}
	if b == a {
		t.Fatalf("job B (another project) received job A's token %q", a)
	}
	if got := i.requests(); len(got) != 2 {
		t.Fatalf("IdP requests = %d, want 2 (job B asked the IdP with its own identity)", len(got))
	}

	c, err := job("")
	if err == nil {
		t.Fatalf("job C (no identity at all) received token %q; want a subject token error", c)
	}
}

// TestExecActorArgumentsAreInTheCacheKey: two providers that differ only
// in the arguments of an exec actor source must not share tokens.
func TestExecActorArgumentsAreInTheCacheKey(t *testing.T) {
	base := config.Provider{ID: "x", ClientID: "c", TokenEndpoint: "https://idp.example/token",
		AuthFlow:           config.FlowTokenExchange,
		SubjectTokenSource: &config.SubjectSource{Type: subject.TypeFile, Path: "/t"},
		ActorTokenSource:   &config.SubjectSource{Type: subject.TypeExec, Command: []string{"print-actor", "--as", "alice"}}}
	other := base
	other.ActorTokenSource = &config.SubjectSource{Type: subject.TypeExec, Command: []string{"print-actor", "--as", "mallory"}}
	if provider.CacheKey(base) == provider.CacheKey(other) {
		t.Fatal("exec actor sources with different arguments share a cache key")
	}
}
