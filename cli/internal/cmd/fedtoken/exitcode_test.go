package fedtoken_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// TestExitCodes runs one failure of each documented kind.
func TestExitCodes(t *testing.T) {
	h := newHarness(t)
	expired := filepath.Join(h.dir, "expired.jwt")
	if err := os.WriteFile(expired, []byte(projectedToken(t, time.Now().Add(-time.Minute).Unix())), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := h.writeConfig("providers:\n  x: {issuer: 'ftp://nope', clientId: c, authFlow: magic}\n")
	bad := h.writeConfig(`providers:
  missing-token:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{DIR}}/no/such/token}
  expired-token:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: file, path: {{DIR}}/expired.jwt}
  wrong-secret:
    issuer: {{IDP}}
    clientId: exchanger
    clientSecret: not-the-secret
    authFlow: token_exchange
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
  unknown-client:
    issuer: {{IDP}}
    clientId: nobody
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
  down:
    tokenEndpoint: http://127.0.0.1:1/idp/token
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
`)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "ok", args: []string{"--config", h.config, "version"}, code: exitcode.OK},
		{name: "unknown flag", args: []string{"token", "--bogus"}, code: exitcode.Usage, want: "unknown flag: --bogus"},
		{name: "unknown command", args: []string{"tokn"}, code: exitcode.Usage, want: `unknown command "tokn"`},
		{name: "unknown subcommand", args: []string{"cache", "lst"}, code: exitcode.Usage, want: `unknown command "lst" for "fedtoken cache"`},
		{name: "too many args", args: []string{"token", "a", "b"}, code: exitcode.Usage, want: "accepts at most 1 arg"},
		{name: "bad -o", args: []string{"--config", h.config, "token", "jb", "-o", "yaml"}, code: exitcode.Usage, want: "use one of raw, json, header, env"},
		{name: "no config file", args: []string{"token"}, code: exitcode.Config, want: "no configuration file found: tried " + filepath.Join(h.dir, "home", ".config", "fedtoken", "config.yaml")},
		{name: "invalid config", args: []string{"--config", broken, "token"}, code: exitcode.Config, want: "providers.x.authFlow"},
		{name: "unknown provider", args: []string{"--config", h.config, "token", "nope"}, code: exitcode.Config, want: `no provider "nope"; available: browser, device, jb, te`},
		{name: "missing subject token", args: []string{"--config", bad, "token", "missing-token"}, code: exitcode.Subject, want: "projected ServiceAccount token volume is probably not mounted"},
		{name: "expired subject token", args: []string{"--config", bad, "token", "expired-token"}, code: exitcode.Subject, want: "token expired at"},
		{name: "rejected client secret", args: []string{"--config", bad, "token", "wrong-secret"}, code: exitcode.Rejected, want: "invalid_client"},
		{name: "rejected client", args: []string{"--config", bad, "token", "unknown-client"}, code: exitcode.Rejected, want: "oauth2: "},
		{name: "IdP down", args: []string{"--config", bad, "token", "down"}, code: exitcode.Network, want: "connection refused"},
		{name: "login required", args: []string{"--config", h.config, "token", "device"}, code: exitcode.LoginRequired, want: "fedtoken login device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--cache-dir", h.cacheDir}, tt.args...)
			r := h.runArgs(args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
			if tt.code != exitcode.OK && r.stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", r.stdout)
			}
			for _, secret := range []string{"not-the-secret", "exchanger-secret"} {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("stderr leaks a secret: %q", r.stderr)
				}
			}
		})
	}
}
