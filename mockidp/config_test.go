package mockidp_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/mockidp"
)

// exampleConfigs are the example files of docs/mockidp.md.
func exampleConfigs(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"testdata/*.yaml", "testdata/*.json"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "-jwks.json") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 7 {
		t.Fatalf("found only %d example configs", len(files))
	}
	return files
}

// TestExampleConfigs loads every example config and builds a server from
// it (nothing is fetched: keys of external issuers are fetched lazily).
func TestExampleConfigs(t *testing.T) {
	for _, f := range exampleConfigs(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := mockidp.LoadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Cluster != nil {
				for i := range cfg.Cluster.Tokens {
					cfg.Cluster.Tokens[i].Dir = filepath.Join(t.TempDir(), "tokens")
				}
			}
			if _, err := mockidp.New("http://127.0.0.1:1", keyGen(), mockidp.WithConfig(*cfg)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDocsShowExampleConfigs checks that docs/mockidp.md shows each example
// config verbatim, so the documented examples are the tested ones.
func TestDocsShowExampleConfigs(t *testing.T) {
	doc, err := os.ReadFile("../docs/mockidp.md")
	if err != nil {
		t.Fatalf("docs/mockidp.md: %v", err)
	}
	for _, f := range exampleConfigs(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), string(b)) {
			t.Errorf("docs/mockidp.md does not show %s verbatim", f)
		}
	}
}

// TestDemoConfig runs testdata/demo.yaml: the projected tokens it writes are
// accepted by the issuers that trust the cluster.
func TestDemoConfig(t *testing.T) {
	cfg, err := mockidp.LoadConfig("testdata/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tokens", "oauth2")
	for i := range cfg.Cluster.Tokens {
		cfg.Cluster.Tokens[i].Dir = dir
	}
	idp := start(t, *cfg)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	prod, staging := idp.IssuerURL("prod"), idp.IssuerURL("staging")
	r := postForm(t, prod+"/token", map[string][]string{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {read("prod-token")}, "client_id": {"k8s-runner"}}, "")
	if r.Status != 200 || r.Body["expires_in"] != float64(30) {
		t.Fatalf("prod jwt-bearer: %d %s", r.Status, r.Raw)
	}
	r = postForm(t, staging+"/token", map[string][]string{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {read("staging-token")}, "client_id": {"k8s-runner"}}, "")
	if r.Status != 200 {
		t.Fatalf("staging jwt-bearer: %d %s", r.Status, r.Raw)
	}
	r = postForm(t, prod+"/token", map[string][]string{"grant_type": {"client_credentials"}, "client_assertion": {read("prod-token")},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}, "")
	if r.Status != 200 || claimsOf(t, r.str("access_token"))["sub"] != "opencode-runner" {
		t.Fatalf("federated client_credentials: %d %s", r.Status, r.Raw)
	}
	// The staging token is useless at prod: audience pinning.
	r = postForm(t, prod+"/token", map[string][]string{"grant_type": {mockidp.GrantJWTBearer}, "assertion": {read("staging-token")}}, "")
	wantOAuthError(t, r, 400, "invalid_grant", "audience ["+staging+"] not in allowed")
	if exp := claimsOf(t, read("prod-token")); exp["exp"].(float64)-exp["iat"].(float64) != 60 {
		t.Fatalf("demo token lifetime: %v", exp)
	}
}

func TestLoadConfigResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MOCKIDP_TEST_DIR", "/abs/from/env")
	yaml := `
issuers:
- name: a
  signingKeyFile: keys/a.pem
  trust: [{issuer: "https://x", jwksFile: jwks.json, caFile: $MOCKIDP_TEST_DIR/ca.pem}]
cluster:
  tokens: [{dir: tokens, audiences: [x]}, {dir: "${MOCKIDP_TEST_DIR}/t2", audiences: [x]}]
`
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := mockidp.LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.Issuers[0].SigningKeyFile, cfg.Issuers[0].Trust[0].JWKSFile, cfg.Issuers[0].Trust[0].CAFile, cfg.Cluster.Tokens[0].Dir, cfg.Cluster.Tokens[1].Dir}
	want := []string{filepath.Join(dir, "keys/a.pem"), filepath.Join(dir, "jwks.json"), "/abs/from/env/ca.pem", filepath.Join(dir, "tokens"), "/abs/from/env/t2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paths = %v, want %v", got, want)
	}
	if _, err := mockidp.LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{`{}`, "issuers: no issuers configured"},
		{`issuers: [{name: a, bogus: 1}]`, `unknown field "bogus"`},
		{`issuers: [{name: "a/b"}]`, `issuers[0].name: name "a/b": use letters`},
		{`issuers: [{name: admin}]`, `issuers[0].name: name "admin" is reserved`},
		{`issuers: [{name: a}, {name: a}]`, `issuers[1].name: name "a" is used twice`},
		{`{issuers: [{name: cluster}], cluster: {}}`, `cluster.name: name "cluster" is used twice`},
		{`issuers: [{name: a, accessTokenLifetime: 500ms}]`, "issuers[0].accessTokenLifetime: must be at least 1s"},
		{`issuers: [{name: a, accessTokenLifetime: soon}]`, `duration "soon"`},
		{`issuers: [{name: a, subjectTokenError: access_denied}]`, `issuers[0].subjectTokenError: "access_denied"`},
		{`issuers: [{name: a, users: [{username: x}], login: {user: yy}}]`, `issuers[0].login.user: "yy" is not one of the issuer's users`},
		{`issuers: [{name: a, clients: [{id: c}]}]`, `issuers[0].clients[0]: client "c" has no credentials`},
		{`issuers: [{name: a, clients: [{id: c, public: true, secret: s}]}]`, "issuers[0].clients[0].public: a public client has no credentials"},
		{`issuers: [{name: a, clients: [{id: c, public: true, grants: [client_credentials]}]}]`, "issuers[0].clients[0].grants[0]: a public client cannot use client_credentials"},
		{`issuers: [{name: a, clients: [{id: c, secret: s, grants: [password]}]}]`, `issuers[0].clients[0].grants[0]: unknown grant "password"`},
		{`issuers: [{name: a, clients: [{id: c, secret: s, authMethods: [private_key_jwt]}]}]`, "issuers[0].clients[0].authMethods[0]: private_key_jwt needs publicKeyFile or jwks"},
		{`issuers: [{name: a, clients: [{id: c, federated: {trust: k8s, subject: s}}]}]`, `issuers[0].clients[0].federated.trust: "k8s" is not a trust policy of this issuer`},
		{`issuers: [{name: a, clients: [{id: c, secret: s}, {id: c, secret: t}]}]`, `issuers[0].clients[1].id: "c" is used twice`},
		{`issuers: [{name: a, trust: [{audiences: [x]}]}]`, "issuers[0].trust[0].issuer: is required (or set localIssuer)"},
		{`issuers: [{name: a, trust: [{issuer: x, jwksURL: "http://a", jwksFile: f}]}]`, "issuers[0].trust[0]: set at most one of discoveryURL, jwksURL and jwksFile"},
		{`issuers: [{name: a, trust: [{issuer: x, jwksURL: "ftp://a"}]}]`, `issuers[0].trust[0].jwksURL: "ftp://a" is not an http(s) URL`},
		{`issuers: [{name: a, trust: [{localIssuer: b}]}]`, `issuers[0].trust[0].localIssuer: unknown issuer "b"`},
		{`issuers: [{name: a, trust: [{issuer: x}, {issuer: x}]}]`, `issuers[0].trust[1].name: trust policy "x" is defined twice`},
		{`cluster: {refreshFraction: 2}`, "cluster.refreshFraction: 2: want a fraction in (0, 1]"},
		{`cluster: {tokenLifetime: 1s}`, "cluster.tokenLifetime: must be at least 2s"},
		{`cluster: {trustedBy: [prod]}`, `cluster.trustedBy[0]: unknown issuer "prod"`},
		{`cluster: {tokens: [{audiences: [x]}]}`, "cluster.tokens[0].dir: is required"},
		{`cluster: {tokens: [{dir: d, path: ../x, audiences: [x]}]}`, `cluster.tokens[0].path: "../x": want a plain file name`},
		{`cluster: {tokens: [{dir: d}]}`, "cluster.tokens[0]: set audiences or audienceIssuers"},
		{`cluster: {tokens: [{dir: d, audienceIssuers: [nope]}]}`, `cluster.tokens[0].audienceIssuers[0]: unknown issuer "nope"`},
		{`cluster: {tokens: [{dir: d, audiences: [x]}, {dir: d, audiences: [z]}]}`, "cluster.tokens[1]: d/token is written twice"},
		{`{cluster: {}, faults: [{type: drop, issuer: nope}]}`, `faults[0].issuer: unknown issuer "nope"`},
		{`{cluster: {}, faults: [{type: boom}]}`, `faults[0]: type "boom"`},
	}
	for _, c := range cases {
		_, err := mockidp.ParseConfig([]byte(c.yaml), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "config: test.yaml: ") {
			t.Errorf("%s\n  err  = %v\n  want = %q", c.yaml, err, c.want)
		}
	}
	// Several mistakes are reported together.
	_, err := mockidp.ParseConfig([]byte(`issuers: [{name: a, clients: [{id: c}, {id: ""}]}]`), "x")
	if err == nil || !strings.Contains(err.Error(), "clients[0]") || !strings.Contains(err.Error(), "clients[1].id: is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		base string
		opts []mockidp.Option
		want string
	}{
		{"127.0.0.1:80", nil, `base URL "127.0.0.1:80"`},
		{"http://h/prefix", nil, "issuers are served at its root"},
		{"http://h", []mockidp.Option{mockidp.WithIssuer(mockidp.IssuerConfig{Name: "a", SigningKeyFile: "/nonexistent.pem"})}, `issuer "a": signing key: open /nonexistent.pem`},
		{"http://h", []mockidp.Option{mockidp.WithIssuer(mockidp.IssuerConfig{Name: "a", Trust: []mockidp.TrustConfig{{Issuer: "x", JWKSFile: "/nonexistent.json"}}})}, `trust "x": jwksFile`},
		{"http://h", []mockidp.Option{mockidp.WithIssuer(mockidp.IssuerConfig{Name: "a", Trust: []mockidp.TrustConfig{{Issuer: "https://x", CAFile: "testdata/minimal.yaml"}}})}, "no PEM certificates"},
		{"http://h", []mockidp.Option{mockidp.WithCluster(mockidp.ClusterConfig{}), mockidp.WithCluster(mockidp.ClusterConfig{})}, "a cluster is configured twice"},
		{"http://h", []mockidp.Option{mockidp.WithClock(nil)}, "WithClock(nil)"},
	}
	for _, c := range cases {
		_, err := mockidp.New(c.base, append([]mockidp.Option{keyGen()}, c.opts...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q): err = %v, want %q", c.base, err, c.want)
		}
	}
}

func TestDurationAndSecret(t *testing.T) {
	var d struct{ A, B mockidp.Duration }
	if err := json.Unmarshal([]byte(`{"A":"1m30s","B":2.5}`), &d); err != nil || d.A.D() != 90*time.Second || d.B.D() != 2500*time.Millisecond {
		t.Fatalf("%v %+v", err, d)
	}
	if b, _ := json.Marshal(d.A); string(b) != `"1m30s"` {
		t.Fatalf("marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"A":true}`), &d); err == nil {
		t.Fatal("bool accepted as a duration")
	}
	s := mockidp.Secret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%s %v %q %#v %x", s, s, s, s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if b, _ := json.Marshal(mockidp.ClientConfig{ID: "c", Secret: s}); strings.Contains(string(b), "hunter2") {
		t.Fatalf("secret marshalled: %s", b)
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal")
	}
}
