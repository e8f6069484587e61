package fedtoken_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// fixedNow is the clock of the inspect goldens.
var fixedNow = time.Date(2026, 11, 26, 16, 20, 0, 0, time.UTC)

// makeJWT builds an unsigned-looking JWT (inspect verifies nothing).
func makeJWT(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString([]byte("not-a-real-signature"))
}

// projectedToken is shaped like a kubelet-projected ServiceAccount token,
// issued at 16:16:04 for 10 minutes: rotation at 16:24:04.
func projectedToken(t *testing.T, exp int64) string {
	iat := time.Date(2026, 11, 26, 16, 16, 4, 0, time.UTC).Unix()
	return makeJWT(t, map[string]any{"alg": "RS256", "kid": "k1"}, map[string]any{
		"iss": "https://127.0.0.1:6443", "sub": "system:serviceaccount:ai-jobs:opencode-runner",
		"aud": []string{"https://auth.example.com/realms/prod"}, "iat": iat, "nbf": iat, "exp": exp,
		"jti": "5b7c0e0e-2f4b-4c83-9d0a-0c6a3c1f9a51",
		"kubernetes.io": map[string]any{
			"namespace":      "ai-jobs",
			"pod":            map[string]any{"name": "digest-29112", "uid": "8c9a"},
			"serviceaccount": map[string]any{"name": "opencode-runner", "uid": "1f2e"},
		},
	})
}

func TestInspect(t *testing.T) {
	h := newHarness(t)
	h.now = func() time.Time { return fixedNow }
	valid := projectedToken(t, time.Date(2026, 11, 26, 16, 26, 4, 0, time.UTC).Unix())
	expired := projectedToken(t, time.Date(2026, 11, 26, 16, 19, 0, 0, time.UTC).Unix())
	access := makeJWT(t, map[string]any{"alg": "ES256", "typ": "at+jwt"}, map[string]any{
		"iss": "https://auth.example.com/realms/prod", "sub": "f3b1", "aud": "llm-gateway",
		"exp": 1795710300.5, "iat": 1795710000, "scope": "openid profile", "act": map[string]any{"sub": "agent"},
	})
	files := map[string]string{"projected": valid, "expired": expired, "access": access}
	for name, tok := range files {
		if err := os.WriteFile(filepath.Join(h.dir, name+".jwt"), []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{name: "projected", args: []string{"inspect", "--file", filepath.Join(h.dir, "projected.jwt")}},
		{name: "projected-json", args: []string{"inspect", "-o", "json", "--file", filepath.Join(h.dir, "projected.jwt")}},
		{name: "expired", args: []string{"inspect", "-f", filepath.Join(h.dir, "expired.jwt")}},
		{name: "access-stdin", args: []string{"inspect", "-"}, stdin: "Authorization: Bearer " + access + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.stdin = tt.stdin
			r := h.run(tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, tok := range files {
				sig := tok[strings.LastIndex(tok, ".")+1:]
				if strings.Contains(r.stdout, sig) || strings.Contains(r.stdout, tok[:40]) {
					t.Fatal("inspect printed the token or its signature")
				}
			}
			golden(t, "inspect-"+tt.name, strings.ReplaceAll(r.stdout, h.dir, "/TMP"))
		})
	}
}

func TestInspectProviderSubjectToken(t *testing.T) {
	h := newHarness(t)
	r := h.run("inspect", "jb")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	squeezed := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{
		"provider jb subject token, kubernetes_sa " + filepath.Join(h.tokenDir, "token"),
		"sub system:serviceaccount:ai-jobs:opencode-runner",
		"aud " + h.idp.IssuerURL("idp"),
		"iss " + h.idp.Cluster().Issuer(),
		"kubelet rotation", "at 80 % of the lifetime",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestInspectErrors(t *testing.T) {
	h := newHarness(t)
	notJWT := filepath.Join(h.dir, "opaque")
	if err := os.WriteFile(notJWT, []byte("opaque-token-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{name: "not a JWT", args: []string{"inspect", "--file", notJWT}, code: exitcode.Subject, want: "expected 3 segments, got 1"},
		{name: "missing file", args: []string{"inspect", "--file", filepath.Join(h.dir, "nope")}, code: exitcode.Subject, want: "no such file"},
		{name: "empty stdin", args: []string{"inspect", "-"}, code: exitcode.Subject, want: "stdin is empty"},
		{name: "file and arg", args: []string{"inspect", "--file", notJWT, "jb"}, code: exitcode.Usage, want: "not both"},
		{name: "interactive provider", args: []string{"inspect", "device"}, code: exitcode.Config, want: "has no subjectTokenSource"},
		{name: "bad output", args: []string{"inspect", "-o", "yaml", "-"}, code: exitcode.Usage, want: "use text or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.stdin = tt.stdin
			r := h.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "opaque-token-value") {
				t.Error("the error shows the token")
			}
		})
	}
}

// TestInspectTokenRequestNoRotation: a TokenRequest token (kubectl create
// token) carries kubernetes.io but no pod: nobody rotates it, so inspect
// shows no kubelet rotation.
func TestInspectTokenRequestNoRotation(t *testing.T) {
	h := newHarness(t)
	h.now = func() time.Time { return fixedNow }
	iat := time.Date(2026, 11, 26, 16, 16, 4, 0, time.UTC).Unix()
	tok := makeJWT(t, map[string]any{"alg": "RS256"}, map[string]any{
		"iss": "https://127.0.0.1:6443", "sub": "system:serviceaccount:ai-jobs:opencode-runner",
		"aud": "https://auth.example.com/realms/prod", "iat": iat, "exp": iat + 3600,
		"kubernetes.io": map[string]any{"namespace": "ai-jobs", "serviceaccount": map[string]any{"name": "opencode-runner", "uid": "1f2e"}},
	})
	p := filepath.Join(h.dir, "requested.jwt")
	if err := os.WriteFile(p, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run("inspect", "--file", p)
	if r.code != 0 || !strings.Contains(r.stdout, "lifetime") || strings.Contains(r.stdout, "kubelet") {
		t.Errorf("exit %d; want a report without kubelet rotation:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
