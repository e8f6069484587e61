package fedtoken_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gatewayStub answers GET /v1/models for a bearer token issued by the
// harness's IdP; status 401 when unauthorised is set. It records the last
// bearer token it saw.
type gatewayStub struct {
	*httptest.Server
	unauthorised atomic.Bool
	token        atomic.Value
	hits         atomic.Int32
}

func newGateway(t *testing.T) *gatewayStub {
	g := &gatewayStub{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.hits.Add(1)
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.Count(tok, ".") != 2 || r.URL.Path != "/v1/models" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		g.token.Store(tok)
		if g.unauthorised.Load() {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"token ` + tok + ` is not for this gateway"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"glm-5","owned_by":"zai"},{"id":"qwen3-coder-30b-a3b"}]}`))
	}))
	t.Cleanup(g.Close)
	return g
}

func (h *harness) opencodeConfig(baseURL, extra string) string {
	h.t.Helper()
	return h.writeFile("opencode.json", `{
  "provider": {
    "miaou": {
      "name": "Miaou",
      "options": {
        "baseURL": "`+baseURL+`",
        "oauth2": {
          "issuer": "`+h.idp.IssuerURL("idp")+`",
          "clientId": "k8s-runner",
          "scopes": ["openid"],
          "authFlow": "jwt_bearer",
          "nameOverrides": {"glm-5": "Miaou GLM"},
          "subjectTokenSource": {"type": "kubernetes_sa", "tokenPath": "`+h.tokenDir+`/token"}
        }
      }
    }
  }`+extra+`
}`)
}

func TestModels(t *testing.T) {
	h := newHarness(t)
	gw := newGateway(t)
	cfg := h.opencodeConfig(gw.URL+"/v1", "")

	r := h.runArgs("--config", cfg, "--cache-dir", h.cacheDir, "models", "miaou")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "ID                   NAME\nglm-5                Miaou GLM\nqwen3-coder-30b-a3b  Qwen3 Coder 30B A3b\n"
	if r.stdout != want {
		t.Errorf("table:\n%s\nwant:\n%s", r.stdout, want)
	}

	r = h.runArgs("--config", cfg, "--cache-dir", h.cacheDir, "models", "-o", "json")
	var list []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 {
		t.Fatalf("json: %v, exit %d: %s", err, r.code, r.stdout)
	}
	if len(list) != 2 || list[0]["id"] != "glm-5" || list[0]["name"] != "Miaou GLM" || list[0]["owned_by"] != "zai" {
		t.Errorf("json = %v", list)
	}

	gw.unauthorised.Store(true)
	r = h.runArgs("--config", cfg, "--cache-dir", h.cacheDir, "models")
	tok, _ := gw.token.Load().(string)
	if r.code != 5 || !strings.Contains(r.stderr, "invalid_token") || !strings.Contains(r.stderr, "HTTP 401") ||
		!strings.Contains(r.stderr, "is not for this gateway") || tok == "" || strings.Contains(r.stderr, tok) {
		t.Errorf("401: exit %d, stderr %q", r.code, r.stderr)
	}

	// No baseURL: a config error naming the field.
	noBase := h.opencodeConfig("", "")
	r = h.runArgs("--config", noBase, "--cache-dir", h.cacheDir, "models")
	if r.code != 3 || !strings.Contains(r.stderr, "baseURL") {
		t.Errorf("no baseURL: exit %d, %q", r.code, r.stderr)
	}
}

// pluginConfig.oauth2ModelSync.logLevel sets the log level; -v wins.
func TestLogLevelFromConfig(t *testing.T) {
	h := newHarness(t)
	gw := newGateway(t)
	cfg := h.opencodeConfig(gw.URL+"/v1", `,
  "pluginConfig": {"oauth2ModelSync": {"logLevel": "trace"}}`)
	r := h.runArgs("--config", cfg, "--cache-dir", h.cacheDir, "models")
	if r.code != 0 || !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("logLevel trace: exit %d, stderr %q; want debug lines", r.code, r.stderr)
	}
	quiet := h.opencodeConfig(gw.URL+"/v1", `,
  "pluginConfig": {"oauth2ModelSync": {"logLevel": "error"}}`)
	r = h.runArgs("--config", quiet, "--cache-dir", h.cacheDir, "models")
	if r.code != 0 || strings.Contains(r.stderr, "level=") {
		t.Errorf("logLevel error: exit %d, stderr %q; want nothing", r.code, r.stderr)
	}
	r = h.runArgs("--config", quiet, "--cache-dir", h.cacheDir, "-vv", "models")
	if r.code != 0 || !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("-vv over logLevel error: exit %d, stderr %q", r.code, r.stderr)
	}
}

// fedtoken exec hands opencode the gateway's models in
// OPENCODE_CONFIG_CONTENT, merged into a value already there; when the
// listing fails the last good list is used.
func TestExecModelSync(t *testing.T) {
	h := newHarness(t)
	gw := newGateway(t)
	cfg := h.opencodeConfig(gw.URL+"/v1", "")
	h.env["OPENCODE_CONFIG_CONTENT"] = `{"provider":{"miaou":{"models":{"glm-5":{"limit":{"context":8192}}}}},"theme":"x"}`
	show := []string{"--", "sh", "-c", `printf %s "$OPENCODE_CONFIG_CONTENT"`}
	content := func(r result) map[string]any {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("OPENCODE_CONFIG_CONTENT is not JSON: %v: %q", err, r.stdout)
		}
		return v
	}
	want := map[string]any{
		"theme": "x",
		"provider": map[string]any{"miaou": map[string]any{"models": map[string]any{
			"glm-5":               map[string]any{"id": "glm-5", "name": "Miaou GLM", "limit": map[string]any{"context": float64(8192)}},
			"qwen3-coder-30b-a3b": map[string]any{"id": "qwen3-coder-30b-a3b", "name": "Qwen3 Coder 30B A3b"},
		}}},
	}
	got := content(h.runArgs(append([]string{"--config", cfg, "--cache-dir", h.cacheDir, "exec", "--model-sync", "on", "miaou"}, show...)...))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OPENCODE_CONFIG_CONTENT (-want +got):\n%s", diff)
	}

	// The gateway refuses: the last good list, and a warning without the token.
	gw.unauthorised.Store(true)
	r := h.runArgs(append([]string{"--config", cfg, "--cache-dir", h.cacheDir, "exec", "--model-sync", "on", "miaou"}, show...)...)
	if diff := cmp.Diff(want, content(r)); diff != "" {
		t.Errorf("last good list (-want +got):\n%s", diff)
	}
	tok, _ := gw.token.Load().(string)
	if !strings.Contains(r.stderr, "using the last good list") || strings.Contains(r.stderr, tok) {
		t.Errorf("stderr = %q", r.stderr)
	}

	// auto: only for opencode; off: never.
	hits := gw.hits.Load()
	for _, args := range [][]string{{"exec", "miaou"}, {"exec", "--model-sync", "off", "miaou"}} {
		r := h.runArgs(append(append([]string{"--config", cfg, "--cache-dir", h.cacheDir}, args...), show...)...)
		if r.code != 0 || r.stdout != h.env["OPENCODE_CONFIG_CONTENT"] {
			t.Errorf("%v: exit %d, content %q", args, r.code, r.stdout)
		}
	}
	if gw.hits.Load() != hits {
		t.Error("the gateway was asked for models although the command is not opencode")
	}
	// auto for a command named opencode: synced.
	bin := filepath.Join(h.dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "opencode"), []byte("#!/bin/sh\nprintf %s \"$OPENCODE_CONFIG_CONTENT\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	gw.unauthorised.Store(false)
	got = content(h.runArgs("--config", cfg, "--cache-dir", h.cacheDir, "exec", "miaou", "--", filepath.Join(bin, "opencode"), "models"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("auto with opencode (-want +got):\n%s", diff)
	}
	r = h.runArgs("--config", cfg, "--cache-dir", h.cacheDir, "exec", "--model-sync", "maybe", "miaou", "--", "true")
	if r.code != 2 || !strings.Contains(r.stderr, "auto, on or off") {
		t.Errorf("bad --model-sync: exit %d, %q", r.code, r.stderr)
	}
}
