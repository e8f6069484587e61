package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/mockidp/internal/app"
)

func TestMain(m *testing.M) {
	// zitadel/oidc logs through slog.Default; keep test output readable.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}

// syncBuffer is a goroutine-safe stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a fedtoken-mockidp started by startApp.
type running struct {
	lines  []string
	stderr *syncBuffer
	stop   func() int
}

// startApp runs app.Run until its "ready" line and returns the output
// lines; stop cancels it and returns the exit code.
func startApp(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		c := app.Run(ctx, args, pw, stderr)
		pw.Close()
		code <- c
	}()
	r := &running{stderr: stderr}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		r.lines = append(r.lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "ready ") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	exit := -1
	r.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(30 * time.Second):
				t.Error("app.Run did not return after cancel")
			}
		})
		return exit
	}
	t.Cleanup(func() { r.stop() })
	if len(r.lines) == 0 || !strings.HasPrefix(r.lines[len(r.lines)-1], "ready ") {
		t.Fatalf("no ready line; stdout %q, stderr:\n%s", r.lines, stderr.String())
	}
	return r
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var lineRE = regexp.MustCompile(`^(issuer|cluster) (\S+) (http://127\.0\.0\.1:\d+/\S+)$`)

func TestRunPrintsIssuersAndServes(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mockidp.yaml", `
cluster:
  trustedBy: [prod]
  tokens: [{dir: tokens, namespace: ai-jobs, serviceAccount: runner, audienceIssuers: [prod]}]
issuers:
- name: prod
  clients: [{id: k8s-runner, public: true}]
- name: staging
  clients: [{id: app, secret: s}]
`)
	ready := filepath.Join(dir, "ready")
	r := startApp(t, "--config", cfg, "--ready-file", ready, "--admin", "--log-level", "debug")
	issuers := map[string]string{}
	for _, l := range r.lines {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			issuers[m[2]] = m[3]
		}
	}
	if len(issuers) != 3 || !strings.HasSuffix(issuers["prod"], "/prod") || !strings.HasSuffix(issuers["cluster"], "/cluster") {
		t.Fatalf("output lines: %q", r.lines)
	}
	base := strings.TrimPrefix(r.lines[len(r.lines)-1], "ready ")
	tokenFile := filepath.Join(dir, "tokens", "token")
	wantTail := []string{"token " + tokenFile, "admin " + base + "/admin/", "ready " + base}
	if got := r.lines[len(r.lines)-3:]; strings.Join(got, "\n") != strings.Join(wantTail, "\n") {
		t.Fatalf("tail = %q, want %q", got, wantTail)
	}
	b, err := os.ReadFile(ready)
	if err != nil || string(b) != strings.Join(r.lines, "\n")+"\n" {
		t.Fatalf("ready file = %q (%v)", b, err)
	}

	resp, err := http.Get(issuers["prod"] + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disco struct{ Issuer string }
	_ = json.NewDecoder(resp.Body).Decode(&disco)
	resp.Body.Close()
	if disco.Issuer != issuers["prod"] {
		t.Fatalf("discovery issuer = %q", disco.Issuer)
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.PostForm(issuers["prod"]+"/token", map[string][]string{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {string(tok)}, "client_id": {"k8s-runner"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("jwt-bearer with the projected token: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/admin/counters")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin: %d", resp.StatusCode)
	}

	if code := r.stop(); code != app.ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, r.stderr.String())
	}
	if _, err := os.Stat(ready); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ready file left behind: %v", err)
	}
	logs := r.stderr.String()
	if !strings.Contains(logs, "msg=request") || !strings.Contains(logs, "grant=jwt_bearer") || !strings.Contains(logs, "msg=stopped") {
		t.Fatalf("logs:\n%s", logs)
	}
	if strings.Contains(logs, string(tok)) {
		t.Fatal("the logs contain the service-account token")
	}
}

func TestRunEnvironmentAndBaseURL(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "c.json", `{"issuers":[{"name":"e","clients":[{"id":"c","public":true}]}]}`)
	t.Setenv(app.EnvConfig, cfg)
	t.Setenv(app.EnvBaseURL, "http://mockidp.test:8080")
	t.Setenv(app.EnvListen, "127.0.0.1:0")
	r := startApp(t)
	want := []string{"issuer e http://mockidp.test:8080/e", "ready http://mockidp.test:8080"}
	if strings.Join(r.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines = %q", r.lines)
	}
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "issuers: [{name: a, clients: [{id: c}]}]\n")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, app.ExitUsage, "--config FILE is required"},
		{[]string{"--nope"}, app.ExitUsage, "flag provided but not defined: -nope"},
		{[]string{"--config", bad, "extra"}, app.ExitUsage, `unexpected arguments ["extra"]`},
		{[]string{"--config", bad, "--log-level", "loud"}, app.ExitUsage, `--log-level "loud"`},
		{[]string{"--config", bad, "--log-format", "xml"}, app.ExitUsage, `--log-format "xml"`},
		{[]string{"--config", bad}, app.ExitError, `issuers[0].clients[0]: client \"c\" has no credentials`},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, app.ExitError, "missing.yaml: no such file"},
		{[]string{"--config", bad, "--listen", "256.0.0.1:0"}, app.ExitError, "listen 256.0.0.1:0"},
		{[]string{"--help"}, app.ExitOK, "Usage: fedtoken-mockidp --config FILE"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		if c.want == "listen 256.0.0.1:0" {
			good := writeFile(t, dir, "good.yaml", "issuers: [{name: a}]\n")
			c.args[1] = good
		}
		code := app.Run(context.Background(), c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("Run(%q) = %d, stderr:\n%s\nwant %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}
