package fedtoken_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
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
