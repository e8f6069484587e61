// Package demo is the driver of `make demo`: it starts fedtoken-mockidp in
// cluster mode (an IdP plus a fake Kubernetes API server and kubelet that
// keep a projected ServiceAccount token fresh on disk), then runs the
// fedtoken binary against it the way a pod would, printing each command
// and a short form of its output. Every step is checked; the first failure
// ends the demo with an error. Everything started is stopped, and the
// temporary directory is removed.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Options configure Run.
type Options struct {
	// Bin is the directory holding fedtoken and fedtoken-mockidp.
	Bin string
	// Out receives the demo's narration and the commands' output.
	Out io.Writer
	// Rotation is the lifetime of the projected token (it is rewritten
	// at 80 % of it); the demo waits for one rotation.
	Rotation time.Duration
	// Bold makes headings bold (for a terminal).
	Bold bool
}

// demo is one run.
type demo struct {
	Options
	dir     string
	env     []string
	admin   string
	issuer  string
	token   string // the projected token file
	mockidp *exec.Cmd
}

const mockidpConfig = `# fedtoken demo: one IdP ("idp") that trusts one cluster ("cluster").
admin: true
cluster:
  name: cluster
  tokenLifetime: %s          # the kubelet rewrites the token at 80 %% of this
  trustedBy: [idp]           # idp accepts the cluster's tokens with aud = idp's issuer
  tokens:
    - dir: %s
      namespace: ai-jobs
      serviceAccount: opencode-runner
      audienceIssuers: [idp]
issuers:
  - name: idp
    accessTokenLifetime: 10s
    clients:
      - {id: k8s-runner, public: true, grants: [jwt_bearer]}
      - {id: exchanger, secret: exchanger-secret, grants: [token_exchange]}
`

// opencode.json, as the upstream plugin's users write it (read unchanged).
const opencodeConfig = `{
  "$schema": "https://opencode.ai/config.json",
  "plugin": ["@vymalo/opencode-oauth2"],
  "provider": {
    "miaou": {
      "name": "Miaou (jwt_bearer)",
      "options": {
        "baseURL": "https://llm.example.com/v1",
        "oauth2": {
          "issuer": %[1]q,
          "clientId": "k8s-runner",
          "scopes": ["openid"],
          "authFlow": "jwt_bearer",
          "subjectTokenSource": {"type": "kubernetes_sa", "tokenPath": %[2]q}
        }
      }
    },
    "miaou-exchange": {
      "name": "Miaou (token_exchange)",
      "options": {
        "baseURL": "https://llm.example.com/v1",
        "oauth2": {
          "issuer": %[1]q,
          "clientId": "exchanger",
          "clientSecret": "exchanger-secret",
          "authFlow": "token_exchange",
          "subjectTokenSource": {"type": "kubernetes_sa", "tokenPath": %[2]q}
        }
      }
    }
  }
}
`

// Run runs the demo until it ends or ctx is done.
func Run(ctx context.Context, o Options) (err error) {
	if o.Rotation == 0 {
		o.Rotation = 20 * time.Second
	}
	dir, err := os.MkdirTemp("", "fedtoken-demo-")
	if err != nil {
		return err
	}
	d := &demo{Options: o, dir: dir}
	defer d.cleanup()
	if err := d.start(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{d.subject, d.tokens, d.doctor, d.rotation} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	d.say("\nThe demo passed. Everything it started is stopped; nothing was left behind.")
	return nil
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.Out, format+"\n", args...) }

func (d *demo) heading(title string) {
	if d.Bold {
		d.say("\n\033[1m== %s\033[0m", title)
		return
	}
	d.say("\n== %s", title)
}

// start writes the configuration and starts fedtoken-mockidp.
func (d *demo) start(ctx context.Context) error {
	d.heading("Start fedtoken-mockidp: an IdP and a fake cluster that projects a ServiceAccount token")
	projected := filepath.Join(d.dir, "projected")
	cfg := filepath.Join(d.dir, "mockidp.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, mockidpConfig, d.Rotation, projected), 0o600); err != nil {
		return err
	}
	c := exec.Command(filepath.Join(d.Bin, "fedtoken-mockidp"), "--config", cfg, "--log-level", "warn")
	stdout, err := c.StdoutPipe()
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(d.dir, "mockidp.log"))
	if err != nil {
		return err
	}
	c.Stderr = logFile
	if err := c.Start(); err != nil {
		return fmt.Errorf("start fedtoken-mockidp (run make build first): %w", err)
	}
	d.mockidp = c
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				return fmt.Errorf("fedtoken-mockidp exited before it was ready; see %s", logFile.Name())
			}
			f := strings.Fields(l)
			switch {
			case len(f) == 3 && f[0] == "issuer" && f[1] == "idp":
				d.issuer = f[2]
			case len(f) == 2 && f[0] == "token":
				d.token = f[1]
			case len(f) == 2 && f[0] == "admin":
				d.admin = f[1]
			case len(f) == 2 && f[0] == "ready":
				ready = true
			}
			d.say("  %s", l)
		case <-timeout.C:
			return errors.New("fedtoken-mockidp did not print its ready line within 30s")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	go func() { // keep reading so the process never blocks on stdout
		for range lines {
		}
	}()
	if d.issuer == "" || d.token == "" || d.admin == "" {
		return errors.New("fedtoken-mockidp did not announce the idp issuer, the token file and the admin API")
	}
	oc := filepath.Join(d.dir, "opencode", "opencode.json")
	if err := os.MkdirAll(filepath.Dir(oc), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(oc, fmt.Appendf(nil, opencodeConfig, d.issuer, d.token), 0o600); err != nil {
		return err
	}
	d.env = append(os.Environ(),
		"OPENCODE_CONFIG_DIR="+filepath.Dir(oc),
		"FEDTOKEN_CACHE_DIR="+filepath.Join(d.dir, "cache"),
		"CI=true", // as in the seed's CronJob: never prompt
	)
	d.say("\nThe pod's configuration is the upstream plugin's opencode.json, unchanged (two providers,")
	d.say("miaou: jwt_bearer and miaou-exchange: token_exchange), found through $OPENCODE_CONFIG_DIR:")
	d.say("  export OPENCODE_CONFIG_DIR=%s FEDTOKEN_CACHE_DIR=%s CI=true", filepath.Dir(oc), filepath.Join(d.dir, "cache"))
	return nil
}

// cleanup stops mockidp and removes the temporary directory.
func (d *demo) cleanup() {
	if c := d.mockidp; c != nil && c.Process != nil {
		if err := c.Process.Signal(syscall.SIGTERM); err != nil {
			_ = c.Process.Kill()
		}
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(d.dir)
}

// fedtoken runs the fedtoken binary, prints the command and its output
// (JWTs shortened), and fails unless it exits with want.
func (d *demo) fedtoken(ctx context.Context, stdin string, want int, args ...string) (string, error) {
	d.say("\n$ fedtoken %s", strings.Join(args, " "))
	c := exec.CommandContext(ctx, filepath.Join(d.Bin, "fedtoken"), args...)
	c.Env = d.env
	c.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		return "", err
	}
	for _, l := range strings.Split(strings.TrimRight(Shorten(stdout.String()+stderr.String()), "\n"), "\n") {
		d.say("  %s", l)
	}
	if code != want {
		return "", fmt.Errorf("fedtoken %s: exit status %d, want %d", strings.Join(args, " "), code, want)
	}
	return stdout.String(), nil
}

var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// Shorten replaces every JWT in s with its first 20 characters and its length.
func Shorten(s string) string {
	return jwtRE.ReplaceAllStringFunc(s, func(t string) string {
		return fmt.Sprintf("%s…(%d chars)", t[:20], len(t))
	})
}

func (d *demo) subject(ctx context.Context) error {
	d.heading("The workload's identity: the projected ServiceAccount token (aud = the IdP)")
	_, err := d.fedtoken(ctx, "", 0, "inspect", "miaou")
	return err
}

func (d *demo) tokens(ctx context.Context) error {
	for _, p := range []struct{ id, grant string }{{"miaou", "jwt_bearer (RFC 7523)"}, {"miaou-exchange", "token_exchange (RFC 8693)"}} {
		d.heading("An access token via " + p.grant)
		out, err := d.fedtoken(ctx, "", 0, "token", p.id, "-o", "json")
		if err != nil {
			return err
		}
		var doc struct {
			AccessToken string `json:"access_token"`
			Expiry      string `json:"expiry"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.AccessToken == "" || doc.Expiry == "" {
			return fmt.Errorf("fedtoken token %s -o json: not a token document: %v", p.id, err)
		}
		d.say("\n# the access token, decoded (fedtoken token %s | fedtoken inspect -):", p.id)
		if _, err := d.fedtoken(ctx, doc.AccessToken, 0, "inspect", "-"); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) doctor(ctx context.Context) error {
	d.heading("doctor: every check, including a dry-run exchange, for both providers")
	out, err := d.fedtoken(ctx, "", 0, "doctor")
	if err != nil {
		return err
	}
	if strings.Contains(out, "✗") || strings.Count(out, "✓ exchange") != 2 {
		return errors.New("doctor did not pass every check")
	}
	return nil
}

// claims returns the jti and iat of the projected token.
func (d *demo) claims(ctx context.Context) (jti, iat string, err error) {
	c := exec.CommandContext(ctx, filepath.Join(d.Bin, "fedtoken"), "inspect", "miaou", "-o", "json")
	c.Env = d.env
	out, err := c.Output()
	if err != nil {
		return "", "", fmt.Errorf("fedtoken inspect miaou: %w", err)
	}
	var r struct {
		Claims map[string]any `json:"claims"`
		Times  map[string]struct {
			Time string `json:"time"`
		} `json:"times"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return "", "", err
	}
	jti, _ = r.Claims["jti"].(string)
	return jti, r.Times["iat"].Time, nil
}

// rotation waits for the kubelet-style rewrite and shows that the next
// acquisition presents the new token.
func (d *demo) rotation(ctx context.Context) error {
	d.heading("Rotation: the kubelet rewrites the token; the next acquisition reads the new one")
	jti1, iat1, err := d.claims(ctx)
	if err != nil {
		return err
	}
	d.say("  subject token now:    jti %s  iat %s", jti1, iat1)
	d.say("  waiting for the rotation (at 80 %% of its %s lifetime)…", d.Rotation)
	deadline := time.Now().Add(d.Rotation + 15*time.Second)
	var jti2, iat2 string
	for {
		if jti2, iat2, err = d.claims(ctx); err != nil {
			return err
		}
		if jti2 != jti1 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the projected token was not rotated within %s", d.Rotation+15*time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	d.say("  subject token after: jti %s  iat %s", jti2, iat2)
	if iat2 == iat1 {
		return errors.New("the rotated token has the same iat")
	}
	// The 10 s access token from before is past its use-by time (half its
	// lifetime, as it is shorter than twice the 30 s skew): this is a new
	// acquisition, which re-reads the subject token.
	if _, err := d.fedtoken(ctx, "", 0, "token", "miaou", "-o", "header"); err != nil {
		return err
	}
	recs, err := d.requests(ctx, "jwt_bearer")
	if err != nil {
		return err
	}
	d.say("\n# what the IdP saw (mockidp's admin request log): the jwt_bearer requests of")
	d.say("# fedtoken token, doctor's dry run, and fedtoken token after the rotation")
	for _, r := range recs {
		d.say("  #%-3d %s  client %s  subject jti %v  → %s", r.Seq, r.Time.Format("15:04:05"), r.ClientID, r.Subject["jti"], r.Outcome)
	}
	if len(recs) < 2 {
		return fmt.Errorf("the IdP saw %d jwt_bearer requests, want at least 2", len(recs))
	}
	first, last := recs[0], recs[len(recs)-1]
	if first.Subject["jti"] != jti1 || last.Subject["jti"] != jti2 || last.Outcome != "ok" {
		return fmt.Errorf("the IdP saw jti %v then %v, want %s then %s", first.Subject["jti"], last.Subject["jti"], jti1, jti2)
	}
	d.say("  ✓ the first acquisition presented jti %s, the one after the rotation jti %s", jti1, jti2)
	return nil
}

type record struct {
	Seq      int64          `json:"seq"`
	Time     time.Time      `json:"time"`
	ClientID string         `json:"clientId"`
	Subject  map[string]any `json:"subject"`
	Outcome  string         `json:"outcome"`
}

// requests reads mockidp's request log for a grant.
func (d *demo) requests(ctx context.Context, grant string) ([]record, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.admin+"requests?endpoint=token&grant="+grant, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mockidp admin API: %w", err)
	}
	defer resp.Body.Close()
	var recs []record
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		return nil, fmt.Errorf("mockidp admin API: %w", err)
	}
	return recs, nil
}
