package fedtoken_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/cli/internal/clidoc"
	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

func TestCache(t *testing.T) {
	h := newHarness(t)
	if r := h.run("cache", "list"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	} else {
		golden(t, "cache-list-empty", h.normalise(r.stdout))
	}
	for _, id := range []string{"jb", "te"} {
		if r := h.run("token", id); r.code != 0 {
			t.Fatalf("token %s: exit %d: %s", id, r.code, r.stderr)
		}
	}
	r := h.run("cache", "list")
	golden(t, "cache-list", h.normalise(r.stdout))
	r = h.run("cache", "list", "-o", "json")
	var l struct {
		Dir     string `json:"dir"`
		Entries []struct {
			Provider, Status string
			RefreshToken     bool
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if l.Dir != h.cacheDir || len(l.Entries) != 4 || l.Entries[2].Provider != "jb" || l.Entries[2].Status != "valid" {
		t.Errorf("cache list -o json = %+v", l)
	}
	if strings.Contains(r.stdout, "eyJ") {
		t.Error("cache list shows a token")
	}

	if r := h.run("cache", "clear", "jb"); r.code != 0 || !strings.Contains(r.stderr, "Cleared the cached token of jb") {
		t.Fatalf("clear jb: exit %d, %q", r.code, r.stderr)
	}
	after := strings.Join(strings.Fields(h.run("cache", "list").stdout), " ")
	if !strings.Contains(after, "jb jwt_bearer none") || !strings.Contains(after, "te token_exchange valid") {
		t.Errorf("after clear jb:\n%s", after)
	}
	if r := h.run("cache", "clear"); r.code != 0 {
		t.Fatalf("clear: exit %d, %q", r.code, r.stderr)
	}
	if after := h.run("cache", "list").stdout; strings.Contains(after, "valid") {
		t.Errorf("after clear:\n%s", after)
	}
	if r := h.run("cache", "clear", "nope"); r.code != exitcode.Config {
		t.Errorf("clear nope: exit %d", r.code)
	}
}

func TestConfigCommands(t *testing.T) {
	h := newHarness(t)
	opencode := h.writeFile("opencode.json", `{
  "$schema": "https://opencode.ai/config.json",
  "plugin": ["@vymalo/opencode-oauth2"],
  "provider": {
    "miaou": {
      "name": "Miaou",
      "options": {
        "baseURL": "https://api.example.com/v1",
        "oauth2": {
          "issuer": "https://auth.example.com/realms/prod",
          "clientId": "k8s-runner",
          "clientSecret": "do-not-print-me",
          "scopes": ["openid"],
          "authFlow": "jwt_bearer",
          "subjectTokenSource": {"type": "kubernetes_sa"}
        }
      }
    }
  }
}
`)
	// $OPENCODE_CONFIG_DIR is found without --config.
	h.env["OPENCODE_CONFIG_DIR"] = h.dir
	tests := []struct {
		name string
		args []string
	}{
		{name: "validate", args: []string{"config", "validate"}},
		{name: "view", args: []string{"config", "view"}},
		{name: "view-json", args: []string{"config", "view", "-o", "json", opencode}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.runArgs(tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "do-not-print-me") {
				t.Fatal("the client secret was printed")
			}
			golden(t, "config-"+tt.name, strings.ReplaceAll(r.stdout, h.dir, "/TMP"))
		})
	}
	bad := h.writeFile("bad.yaml", "providers:\n  x: {issuer: 'http://idp.example', clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: kubernetes}}\n")
	r := h.runArgs("config", "validate", bad)
	if r.code != exitcode.Config || !strings.Contains(r.stderr, "providers.x.subjectTokenSource.type") {
		t.Errorf("invalid config: exit %d, %q", r.code, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	h := newHarness(t)
	r := h.runArgs("version", "-o", "json")
	var v struct{ Version, GoVersion, Platform string }
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Version == "" || !strings.HasPrefix(v.GoVersion, "go") {
		t.Fatalf("version -o json = %q, %v", r.stdout, err)
	}
	if r := h.runArgs("version"); !strings.HasPrefix(r.stdout, "fedtoken "+v.Version) {
		t.Errorf("version = %q", r.stdout)
	}
}

func TestCompletion(t *testing.T) {
	h := newHarness(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := h.runArgs("completion", shell); r.code != 0 || !strings.Contains(r.stdout, "fedtoken") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, r.code, len(r.stdout))
		}
	}
	r := h.run("__complete", "token", "")
	for _, id := range []string{"browser\tauthorization_code", "device\tdevice_code", "jb\tjwt_bearer", "te\ttoken_exchange"} {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("completion of PROVIDER lacks %q:\n%s", id, r.stdout)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	root := fedtoken.NewCommand(cmd.NewEnv(cmd.IOStreams{}))
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.Name() == "completion" || c.Name() == "help" {
			continue
		}
		subs := c.Commands()
		if len(subs) == 0 && c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		for _, s := range subs {
			if s.Example == "" {
				t.Errorf("%s has no examples", s.CommandPath())
			}
		}
	}
}

// TestCLIDoc keeps docs/cli.md's command reference equal to the commands.
func TestCLIDoc(t *testing.T) {
	root := fedtoken.NewCommand(cmd.NewEnv(cmd.IOStreams{}))
	path := filepath.Join("..", "..", "..", "..", "docs", "cli.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := clidoc.Splice(string(doc), clidoc.Reference(root))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("docs/cli.md is out of date: run go test ./internal/cmd/fedtoken -run TestCLIDoc -update")
	}
}
