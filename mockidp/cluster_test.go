package mockidp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/fedtoken/fedtoken/mockidp"
)

// clusterConfig is the demo shape: a cluster trusted by prod, projecting
// prod and staging tokens into one volume.
func clusterConfig(dir string) mockidp.Config {
	return mockidp.Config{
		Issuers: []mockidp.IssuerConfig{
			{Name: "prod", Clients: []mockidp.ClientConfig{{ID: "opencode", Public: true}, {
				ID: "runner-sa", Federated: &mockidp.FederatedConfig{Trust: "cluster", Subject: saSub},
			}}},
			{Name: "staging", Clients: []mockidp.ClientConfig{{ID: "opencode", Public: true}}},
		},
		Cluster: &mockidp.ClusterConfig{
			TokenLifetime: mockidp.Duration(time.Minute),
			TrustedBy:     []string{"prod"},
			TrustSubjects: []string{"system:serviceaccount:ai-jobs:*"},
			Tokens: []mockidp.ProjectedTokenConfig{
				{Dir: dir, Path: "prod-token", Namespace: "ai-jobs", ServiceAccount: "runner", AudienceIssuers: []string{"prod"}},
				{Dir: dir, Path: "staging-token", Namespace: "ai-jobs", ServiceAccount: "runner", AudienceIssuers: []string{"staging"}, Lifetime: mockidp.Duration(30 * time.Second)},
			},
		},
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestServiceAccountTokenShape(t *testing.T) {
	clock := newFakeClock()
	idp := start(t, mockidp.Config{Cluster: &mockidp.ClusterConfig{}}, mockidp.WithClock(clock.Now))
	c := idp.Cluster()
	tok, err := c.Mint(mockidp.ServiceAccountToken{Namespace: "e2e", ServiceAccount: "workload", Audiences: []string{"https://idp"}, Pod: "workload-7d9f"})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if h := jws.Signatures[0].Header; h.KeyID == "" || h.ExtraHeaders["typ"] != nil {
		t.Fatalf("header = %+v, want a kid and no typ (like kube-apiserver)", h)
	}
	ks := rp.NewRemoteKeySet(http.DefaultClient, c.Issuer()+"/openid/v1/jwks")
	if _, err := ks.VerifySignature(context.Background(), jws); err != nil {
		t.Fatalf("verify against the cluster JWKS: %v", err)
	}
	claims := claimsOf(t, tok)
	k8s := claims["kubernetes.io"].(map[string]any)
	sa := k8s["serviceaccount"].(map[string]any)
	pod := k8s["pod"].(map[string]any)
	if !uuidRE.MatchString(claims["jti"].(string)) || !uuidRE.MatchString(sa["uid"].(string)) || !uuidRE.MatchString(pod["uid"].(string)) {
		t.Fatalf("jti/uids not UUIDs: %v", claims)
	}
	now := float64(clock.Now().Unix())
	want := map[string]any{
		"iss": c.Issuer(), "sub": "system:serviceaccount:e2e:workload", "aud": []any{"https://idp"},
		"iat": now, "nbf": now, "exp": now + 600, "jti": claims["jti"],
		"kubernetes.io": map[string]any{
			"namespace":      "e2e",
			"serviceaccount": map[string]any{"name": "workload", "uid": sa["uid"]},
			"pod":            map[string]any{"name": "workload-7d9f", "uid": pod["uid"]},
		},
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Fatalf("claims (-want +got):\n%s", diff)
	}
	again, _ := c.Mint(mockidp.ServiceAccountToken{Namespace: "e2e", ServiceAccount: "workload", Audiences: []string{"x"}})
	if k := claimsOf(t, again)["kubernetes.io"].(map[string]any); k["serviceaccount"].(map[string]any)["uid"] != sa["uid"] || k["pod"] != nil {
		t.Fatalf("a service account keeps its uid; an unbound token has no pod: %v", k)
	}
	if _, err := c.Mint(mockidp.ServiceAccountToken{Namespace: "e2e"}); err == nil {
		t.Fatal("mint without a service account accepted")
	}
	noExp, _ := c.Mint(mockidp.ServiceAccountToken{Namespace: "e2e", ServiceAccount: "w", Audiences: []string{"x"}, Claims: map[string]any{"exp": nil, "extra": "y"}})
	if m := claimsOf(t, noExp); m["exp"] != nil || m["extra"] != "y" {
		t.Fatalf("claim overrides: %v", m)
	}
}

func TestProjectedTokensAndAutomaticTrust(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens", "oauth2")
	clock := newFakeClock()
	idp := start(t, clusterConfig(dir), mockidp.WithClock(clock.Now), mockidp.WithAdminAPI())
	c := idp.Cluster()
	prod, staging := idp.IssuerURL("prod"), idp.IssuerURL("staging")
	if diff := cmp.Diff([]string{filepath.Join(dir, "prod-token"), filepath.Join(dir, "staging-token")}, c.TokenFiles()); diff != "" {
		t.Fatalf("token files (-want +got):\n%s", diff)
	}
	for name, target := range map[string]string{"prod-token": "..data/prod-token", "staging-token": "..data/staging-token"} {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != target {
			t.Fatalf("%s -> %q (%v)", name, got, err)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	prodTok, stagingTok := read("prod-token"), read("staging-token")
	if a := claimsOf(t, prodTok)["aud"]; !cmp.Equal(a, []any{prod}) {
		t.Fatalf("prod-token aud = %v", a)
	}
	if a := claimsOf(t, stagingTok)["aud"]; !cmp.Equal(a, []any{staging}) {
		t.Fatalf("staging-token aud = %v", a)
	}
	// The volume is due at 80 % of its shortest token's lifetime (30s).
	if want := clock.Now().Add(24 * time.Second); !c.NextRotation().Equal(want) {
		t.Fatalf("next rotation %s, want %s", c.NextRotation(), want)
	}

	// prod trusts the cluster automatically, with audience pinning.
	r := bearer(t, prod, prodTok)
	if r.Status != 200 || claimsOf(t, r.str("access_token"))["sub"] != saSub {
		t.Fatalf("prod: %d %s", r.Status, r.Raw)
	}
	cc := postForm(t, prod+"/token", map[string][]string{"grant_type": {"client_credentials"}, "client_assertion": {prodTok},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}, "")
	if cc.Status != 200 || claimsOf(t, cc.str("access_token"))["sub"] != "runner-sa" {
		t.Fatalf("federated client: %d %s", cc.Status, cc.Raw)
	}
	wantOAuthError(t, bearer(t, prod, stagingTok), 400, "invalid_grant", "assertion: audience ["+staging+"] not in allowed ["+prod+" "+prod+"/token]")
	wantOAuthError(t, bearer(t, staging, stagingTok), 400, "invalid_grant", `unknown issuer "`+c.Issuer()+`"`)
	other, _ := c.Mint(mockidp.ServiceAccountToken{Namespace: "default", ServiceAccount: "default", Audiences: []string{prod}})
	wantOAuthError(t, bearer(t, prod, other), 400, "invalid_grant", `subject "system:serviceaccount:default:default" not allowed by trust policy "cluster"`)
	clock.Advance(61 * time.Second)
	wantOAuthError(t, bearer(t, prod, prodTok), 400, "invalid_grant", "token expired at")

	// A forced rotation (kubelet restart) rewrites the volume at once.
	data1, _ := os.Readlink(filepath.Join(dir, "..data"))
	before := c.Rotations()
	if err := c.Rotate(); err != nil {
		t.Fatal(err)
	}
	data2, _ := os.Readlink(filepath.Join(dir, "..data"))
	if c.Rotations() != before+1 || data2 == data1 || read("prod-token") == prodTok {
		t.Fatalf("rotation: %d -> %d, ..data %s -> %s", before, c.Rotations(), data1, data2)
	}
	if r := bearer(t, prod, read("prod-token")); r.Status != 200 {
		t.Fatalf("rotated token: %d %s", r.Status, r.Raw)
	}

	// The admin API drives the same cluster.
	admin := idp.BaseURL() + "/admin/cluster"
	if r := adminDo(t, http.MethodPost, admin+"/rotate", ""); r.Status != 204 || c.Rotations() != before+2 {
		t.Fatalf("admin rotate: %d, rotations %d", r.Status, c.Rotations())
	}
	info := get(t, admin)
	if info.str("issuer") != c.Issuer() || info.Body["rotations"] != float64(before+2) {
		t.Fatalf("admin cluster: %s", info.Raw)
	}
	minted := adminDo(t, http.MethodPost, admin+"/tokens", `{"namespace":"ai-jobs","serviceAccount":"runner","audiences":["`+prod+`"],"lifetime":"90s"}`)
	if minted.Status != 200 {
		t.Fatalf("admin mint: %d %s", minted.Status, minted.Raw)
	}
	if m := claimsOf(t, minted.str("token")); m["exp"].(float64)-m["iat"].(float64) != 90 {
		t.Fatalf("minted: %v", m)
	}
	if r := adminDo(t, http.MethodPost, admin+"/tokens", `{"namespace":"ai-jobs"}`); r.Status != 400 || !strings.Contains(r.str("error"), "serviceAccount are required") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

// TestRotationAtFraction lets the real timer rotate a short-lived token
// and a reader loop on the file the whole time.
func TestRotationAtFraction(t *testing.T) {
	dir := t.TempDir()
	cfg := mockidp.Config{Cluster: &mockidp.ClusterConfig{
		TokenLifetime: mockidp.Duration(2 * time.Second), RefreshFraction: 0.05,
		Tokens: []mockidp.ProjectedTokenConfig{{Dir: dir, Namespace: "ai-jobs", ServiceAccount: "runner", Audiences: []string{"x"}}},
	}}
	idp := start(t, cfg)
	c := idp.Cluster()
	path := filepath.Join(dir, "token")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	seen := map[string]bool{}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(path)
			if err != nil {
				readErr = err
				return
			}
			if bytes.Count(b, []byte(".")) != 2 || len(b) < 100 {
				readErr = fmt.Errorf("partial token of %d bytes", len(b))
				return
			}
			seen[string(b)] = true
		}
	})
	// Forced rotations interleave with the timer's.
	for range 20 {
		if err := c.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := c.Rotations()
	for c.Rotations() < start+3 {
		select {
		case <-deadline.C:
			t.Fatalf("the timer rotated %d times in 20s; want 3 (every 100ms)", c.Rotations()-start)
		case <-tick.C:
		}
	}
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Fatalf("reader: %v", readErr)
	}
	if len(seen) < 2 {
		t.Fatalf("the reader saw %d distinct tokens", len(seen))
	}
}

// TestClusterKeysOverHTTP verifies cluster tokens through discovery and
// JWKS over HTTP (an ordinary trust policy), so cluster faults apply.
func TestClusterKeysOverHTTP(t *testing.T) {
	idp := start(t, mockidp.Config{Issuers: []mockidp.IssuerConfig{{Name: "prod"}}, Cluster: &mockidp.ClusterConfig{}})
	c := idp.Cluster()
	prod := idp.IssuerURL("prod")
	if err := idp.SetTrust("prod", mockidp.TrustConfig{Name: "k8s", Issuer: c.Issuer()}); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Mint(mockidp.ServiceAccountToken{Namespace: "ns", ServiceAccount: "sa", Audiences: []string{prod}})
	if err != nil {
		t.Fatal(err)
	}
	if r := bearer(t, prod, tok); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if rec := lastRecord(t, idp, "jwks"); rec.Issuer != "cluster" || rec.Path != "/cluster/openid/v1/jwks" {
		t.Fatalf("JWKS fetch not logged: %+v", rec)
	}
	// Replacing the policy drops its cached keys; the JWKS is now down.
	if err := idp.SetTrust("prod", mockidp.TrustConfig{Name: "k8s", Issuer: c.Issuer()}); err != nil {
		t.Fatal(err)
	}
	addFault(t, idp, mockidp.FaultRule{Issuer: "cluster", Endpoint: "jwks", Type: mockidp.FaultStatus})
	wantOAuthError(t, bearer(t, prod, tok), 503, "temporarily_unavailable", "assertion: fetch JWKS "+c.Issuer()+"/openid/v1/jwks: HTTP 503")
}
