package fedtoken_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/providertest"
	"github.com/fedtoken/fedtoken/mockidp"
	"github.com/fedtoken/fedtoken/mockidp/mockidptest"

	"github.com/fedtoken/fedtoken/cli/internal/app"
	"github.com/fedtoken/fedtoken/cli/internal/cmd"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ and docs/cli.md")

// harness is a fedtoken run against an in-process mockidp: an issuer
// "idp" that trusts a cluster "cluster", which writes a projected
// ServiceAccount token (aud = the idp issuer) into tokenDir.
type harness struct {
	t        testing.TB
	idp      *mockidptest.Server
	dir      string // the test's temp dir
	config   string // fedtoken config file
	cacheDir string
	tokenDir string // the projected volume

	// interactive is what env.Terminal reports.
	interactive bool
	// env is extra environment for the run (CI, …).
	env map[string]string
	// stdin is the run's standard input.
	stdin string
	// now is the CLI's clock (nil: time.Now).
	now func() time.Time

	configs int // config files written

	mu     sync.Mutex
	opened []string // URLs the fake browser opened
}

const fedtokenConfig = `# fedtoken test configuration
providers:
  jb:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
  te:
    issuer: {{IDP}}
    clientId: exchanger
    clientSecret: exchanger-secret
    authFlow: token_exchange
    baseURL: https://llm.example/v1
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
  device:
    issuer: {{IDP}}
    clientId: laptop
    authFlow: device_code
    scopes: [openid, offline_access]
  browser:
    issuer: {{IDP}}
    clientId: laptop
    authFlow: authorization_code
    scopes: [openid, offline_access]
`

// harnessOption changes the mockidp configuration of newHarness.
type harnessOption func(*mockidp.Config)

// keepRefreshToken makes the IdP answer refreshes without a new refresh
// token (no rotation): the client must keep the old one.
func keepRefreshToken(c *mockidp.Config) { c.Issuers[0].KeepRefreshToken = true }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, cacheDir: filepath.Join(dir, "cache"), tokenDir: filepath.Join(dir, "tokens"), env: map[string]string{}}
	zero := mockidp.Duration(0)
	cfg := mockidp.Config{
		Admin: true,
		Cluster: &mockidp.ClusterConfig{
			TrustedBy: []string{"idp"},
			Tokens: []mockidp.ProjectedTokenConfig{{
				Dir: h.tokenDir, Namespace: "ai-jobs", ServiceAccount: "opencode-runner", AudienceIssuers: []string{"idp"},
			}},
		},
		Issuers: []mockidp.IssuerConfig{{
			Name:   "idp",
			Login:  mockidp.LoginConfig{AutoApprove: true},
			Device: mockidp.DeviceConfig{Interval: &zero, PendingPolls: 2},
			Users:  []mockidp.UserConfig{{Username: "alice"}},
			Clients: []mockidp.ClientConfig{
				{ID: "k8s-runner", Public: true, Grants: []string{"jwt_bearer"}},
				{ID: "exchanger", Secret: "exchanger-secret", Grants: []string{"token_exchange"}},
				{ID: "laptop", Public: true, Grants: []string{"device_code", "authorization_code", "refresh_token"},
					RedirectURIs: []string{"http://127.0.0.1/oauth2/callback"}},
			},
		}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	h.idp = mockidptest.Start(t, mockidp.WithConfig(cfg))
	h.config = h.writeConfig(fedtokenConfig)
	h.requireFile(filepath.Join(h.tokenDir, "token"))
	return h
}

// writeConfig writes a fedtoken config, filling in {{IDP}} and {{TOKEN}}.
func (h *harness) writeConfig(text string) string {
	h.t.Helper()
	text = strings.ReplaceAll(text, "{{IDP}}", h.idp.IssuerURL("idp"))
	text = strings.ReplaceAll(text, "{{TOKEN}}", filepath.Join(h.tokenDir, "token"))
	text = strings.ReplaceAll(text, "{{DIR}}", h.dir)
	h.configs++
	p := filepath.Join(h.dir, fmt.Sprintf("config-%d.yaml", h.configs))
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// requireFile fails the test unless p exists (mockidp writes the
// projected volume before Start returns).
func (h *harness) requireFile(p string) {
	h.t.Helper()
	if _, err := os.Stat(p); err != nil {
		h.t.Fatalf("projected token: %v", err)
	}
}

// result is one fedtoken run.
type result struct {
	stdout, stderr string
	code           int
}

// run runs fedtoken with the harness's config and cache.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runArgs(append([]string{"--config", h.config, "--cache-dir", h.cacheDir}, args...)...)
}

// runArgs runs fedtoken with exactly args.
func (h *harness) runArgs(args ...string) result {
	h.t.Helper()
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	return h.exec(&stdout, stderr, args)
}

// start runs fedtoken in the background; its stderr can be watched.
func (h *harness) start(args ...string) (<-chan result, *syncBuffer) {
	stderr := &syncBuffer{}
	done := make(chan result, 1)
	args = append([]string{"--config", h.config, "--cache-dir", h.cacheDir}, args...)
	go func() {
		var stdout bytes.Buffer
		done <- h.exec(&stdout, stderr, args)
	}()
	return done, stderr
}

func (h *harness) exec(stdout *bytes.Buffer, stderr *syncBuffer, args []string) result {
	streams := cmd.IOStreams{In: strings.NewReader(h.stdin), Out: stdout, ErrOut: stderr}
	env := cmd.NewEnv(streams)
	home := filepath.Join(h.dir, "home")
	vars := map[string]string{"HOME": home, "PATH": os.Getenv("PATH")}
	for k, v := range h.env {
		vars[k] = v
	}
	env.Getenv = func(k string) string { return vars[k] }
	env.Environ = func() []string {
		var out []string
		for k, v := range vars {
			out = append(out, k+"="+v)
		}
		return out
	}
	if h.now != nil {
		env.Now = h.now
	}
	env.Terminal = func() bool { return h.interactive }
	env.OpenBrowser = h.openBrowser
	noWait := func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	env.ProviderOptions = []provider.Option{providertest.WithClock(env.Now, noWait)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.RunEnv(ctx, env, args)
	code := app.Report(stderr, err)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// syncBuffer is a stderr that a test can watch while fedtoken writes it.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer matches re and returns the first submatch.
func (s *syncBuffer) waitFor(t *testing.T, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		m := re.FindStringSubmatch(s.b.String())
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		if m != nil {
			return m[len(m)-1]
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("stderr never matched %s:\n%s", re, s.String())
		}
	}
}

// openBrowser follows the URL like a browser: mockidp's auto-approving
// authorize endpoint redirects to the loopback callback.
func (h *harness) openBrowser(ctx context.Context, u string) error {
	h.mu.Lock()
	h.opened = append(h.opened, u)
	h.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			h.t.Logf("browser: %v", err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	return nil
}

// normalise replaces what changes from run to run with placeholders.
func (h *harness) normalise(s string) string {
	s = strings.ReplaceAll(s, h.idp.BaseURL(), "http://IDP")
	s = strings.ReplaceAll(s, h.dir, "/TMP")
	return normaliseCommon(s)
}

var (
	jwtRE      = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	timeRE     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	relRE      = regexp.MustCompile(`\b(in )?(\d+[dhms])+( ago)?\b`)
	expiresRE  = regexp.MustCompile(`"expires_in": \d+`)
	tmpPortRE  = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	durationRE = regexp.MustCompile(`duration=[0-9.]+[µnm]?s`)
)

func normaliseCommon(s string) string {
	s = jwtRE.ReplaceAllString(s, "<JWT>")
	s = timeRE.ReplaceAllString(s, "<TIME>")
	s = expiresRE.ReplaceAllString(s, `"expires_in": <SECONDS>`)
	s = relRE.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case strings.HasPrefix(m, "in "):
			return "in <DURATION>"
		case strings.HasSuffix(m, " ago"):
			return "<DURATION> ago"
		}
		return "<DURATION>"
	})
	s = tmpPortRE.ReplaceAllString(s, "127.0.0.1:PORT")
	return durationRE.ReplaceAllString(s, "duration=<D>")
}

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test -update if the change is right):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// tokenRequests counts the token requests of a grant in mockidp's log,
// and of every grant when grant is "".
func (h *harness) tokenRequests(t testing.TB, grant string) int {
	t.Helper()
	n := 0
	for _, r := range h.idp.Requests() {
		if r.Endpoint == "token" && r.Grant != "" && (grant == "" || r.Grant == grant) {
			n++
		}
	}
	return n
}

// idpRequests counts every request mockidp served, discovery included.
func (h *harness) idpRequests() int { return len(h.idp.Requests()) }

func removeAll(p string) error { return os.RemoveAll(p) }

// writeFile writes a file into the test's temp dir.
func (h *harness) writeFile(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}
