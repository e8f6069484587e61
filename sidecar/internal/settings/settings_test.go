package settings

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDefaults(t *testing.T) {
	for _, in := range []string{"", "null", " {} "} {
		s, err := Parse(json.RawMessage(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if diff := cmp.Diff(Default(), s); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestParseSection(t *testing.T) {
	uid, gid := 1000, 2000
	s, err := Parse(json.RawMessage(`{
		"providers": ["miaou-prod", "miaou-staging"],
		"required": ["miaou-prod"],
		"adminAddr": "127.0.0.1:9911",
		"healthAddr": ":9902",
		"tokenEndpoint": false,
		"proxy": {"miaou-prod": {"listen": "127.0.0.1:8080"}, "miaou-staging": {"listen": "127.0.0.1:8081", "upstream": "http://gw:8000/v1", "caFile": "/etc/ca.pem"}},
		"maxRequestBody": "8Mi",
		"retryBuffer": 65536,
		"responseHeaderTimeout": "2m",
		"dialTimeout": "3s",
		"fileSink": {"miaou-prod": {"path": "/var/run/fedtoken/prod/token", "mode": "0600", "uid": 1000, "gid": 2000}},
		"quitFile": "/var/run/fedtoken/quit",
		"shutdownTimeout": "40s",
		"shutdownDelay": "5s",
		"logLevel": "debug"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		Providers: []string{"miaou-prod", "miaou-staging"}, Required: []string{"miaou-prod"},
		AdminAddr: "127.0.0.1:9911", HealthAddr: ":9902", TokenEndpoint: false,
		Proxy: map[string]Proxy{
			"miaou-prod":    {Listen: "127.0.0.1:8080"},
			"miaou-staging": {Listen: "127.0.0.1:8081", Upstream: "http://gw:8000/v1", CAFile: "/etc/ca.pem"},
		},
		MaxRequestBody: 8 << 20, RetryBuffer: 65536,
		ResponseHeaderTimeout: Duration(2 * time.Minute), DialTimeout: Duration(3 * time.Second),
		FileSink:        map[string]FileSink{"miaou-prod": {Path: "/var/run/fedtoken/prod/token", Mode: "0600", UID: &uid, GID: &gid}},
		QuitFile:        "/var/run/fedtoken/quit",
		ShutdownTimeout: Duration(40 * time.Second), ShutdownDelay: Duration(5 * time.Second),
		LogLevel: "debug",
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"adminadr": "x"}`, `sidecar: unknown field "adminadr"`},
		{`{"proxy": {"p": {"listne": ":1"}}}`, `sidecar: unknown field "listne"`},
		{`{"shutdownTimeout": 30}`, `a duration must be a string such as "30s", got 30`},
		{`{"shutdownTimeout": "30 seconds"}`, `"30 seconds" is not a duration`},
		{`{"maxRequestBody": "lots"}`, `"lots" is not a size in bytes`},
		{`{"tokenEndpoint": "yes"}`, `tokenEndpoint: expected bool, got a JSON string`},
		{`[1]`, `sidecar: `},
		{`{} {}`, `trailing data`},
	} {
		_, err := Parse(json.RawMessage(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	s := Default()
	s.FileSink = map[string]FileSink{"p": {Mode: "rw-r-----"}}
	s.Proxy = map[string]Proxy{"q": {}}
	s.ShutdownDelay = -1
	s.RetryBuffer = -1
	s.LogLevel = "loud"
	err := s.Validate()
	if err == nil {
		t.Fatal("Validate: want errors")
	}
	for _, want := range []string{
		"sidecar.fileSink.p.path: required",
		`sidecar.fileSink.p.mode: "rw-r-----" is not an octal file mode`,
		"sidecar.proxy.q.listen: required",
		"sidecar.shutdownDelay: must not be negative",
		"sidecar.retryBuffer: must not be negative",
		`sidecar.logLevel: "loud" is not one of`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
}

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func parseFlags(t *testing.T, args ...string) *Overrides {
	t.Helper()
	fs := flag.NewFlagSet("fedtoken-sidecar", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o
}

func TestOverridesPrecedence(t *testing.T) {
	section := json.RawMessage(`{"adminAddr": "127.0.0.1:7000", "healthAddr": ":7001", "logLevel": "warn",
		"providers": ["a", "b", "c"], "proxy": {"a": {"listen": "127.0.0.1:8000", "upstream": "https://a.example/v1"}},
		"fileSink": {"a": {"path": "/a"}}}`)
	s, err := Parse(section)
	if err != nil {
		t.Fatal(err)
	}
	o := parseFlags(t, "--admin-addr", "127.0.0.1:9000", "--proxy", "a=127.0.0.1:8100", "--proxy", "b=127.0.0.1:8101",
		"--file-sink", "b=/b", "--file-sink-mode", "0600", "--file-sink-owner", "1000:3000", "--token-endpoint=false")
	e := env{
		"FEDTOKEN_SIDECAR_ADMIN_ADDR":     "127.0.0.1:8500", // loses to the flag
		"FEDTOKEN_SIDECAR_HEALTH_ADDR":    ":9902",          // beats the section
		"FEDTOKEN_SIDECAR_PROVIDERS":      "a, b",           // replaces the section's list
		"FEDTOKEN_SIDECAR_REQUIRED":       "a",
		"FEDTOKEN_LOG_LEVEL":              "debug",
		"FEDTOKEN_SIDECAR_UPSTREAM":       "b=http://127.0.0.1:9999",
		"FEDTOKEN_SIDECAR_RETRY_BUFFER":   "64Ki",
		"FEDTOKEN_SIDECAR_SHUTDOWN_DELAY": "3s",
	}
	if err := o.Apply(s, e.get); err != nil {
		t.Fatal(err)
	}
	uid, gid := 1000, 3000
	want := Default()
	want.AdminAddr, want.HealthAddr, want.LogLevel, want.TokenEndpoint = "127.0.0.1:9000", ":9902", "debug", false
	want.Providers, want.Required = []string{"a", "b"}, []string{"a"}
	want.Proxy = map[string]Proxy{
		"a": {Listen: "127.0.0.1:8100", Upstream: "https://a.example/v1"},
		"b": {Listen: "127.0.0.1:8101", Upstream: "http://127.0.0.1:9999"},
	}
	want.FileSink = map[string]FileSink{
		"a": {Path: "/a", Mode: "0600", UID: &uid, GID: &gid},
		"b": {Path: "/b", Mode: "0600", UID: &uid, GID: &gid},
	}
	want.RetryBuffer = 64 << 10
	want.ShutdownDelay = Duration(3 * time.Second)
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOverridesSingleProviderShorthand(t *testing.T) {
	s := Default()
	o := parseFlags(t, "--proxy", "127.0.0.1:8080", "--file-sink", "/var/run/fedtoken/token")
	if err := o.Apply(s, env{}.get); err != nil {
		t.Fatal(err)
	}
	if s.Proxy[""].Listen != "127.0.0.1:8080" || s.FileSink[""].Path != "/var/run/fedtoken/token" {
		t.Errorf("proxy %+v, sink %+v: want both under the id \"\" (the only provider)", s.Proxy, s.FileSink)
	}
}

func TestOverridesErrorsNameTheSource(t *testing.T) {
	s := Default()
	o := parseFlags(t, "--proxy", "a=8080", "--shutdown-timeout", "soon")
	err := o.Apply(s, env{"FEDTOKEN_SIDECAR_FILE_SINK_OWNER": "app", "FEDTOKEN_SIDECAR_TOKEN_ENDPOINT": "maybe"}.get)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`--proxy "a=8080": not a host:port address`,
		`--shutdown-timeout "soon": not a duration`,
		`$FEDTOKEN_SIDECAR_FILE_SINK_OWNER "app": not UID[:GID]`,
		`$FEDTOKEN_SIDECAR_TOKEN_ENDPOINT "maybe": not a boolean`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestConfigPath(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	seed := mk("etc/opencode/opencode.json")
	native := mk("xdg/fedtoken/config.yml")
	homeOpencode := mk("home/.config/opencode/opencode.json")
	tests := []struct {
		name string
		args []string
		env  env
		want string
	}{
		{"flag wins", []string{"--config", homeOpencode}, env{"FEDTOKEN_CONFIG": "/x", "OPENCODE_CONFIG_DIR": dir + "/etc/opencode"}, homeOpencode},
		{"FEDTOKEN_CONFIG", nil, env{"FEDTOKEN_CONFIG": native, "OPENCODE_CONFIG_DIR": dir + "/etc/opencode"}, native},
		{"missing FEDTOKEN_CONFIG is an error", nil, env{"FEDTOKEN_CONFIG": "/x.json", "OPENCODE_CONFIG_DIR": dir + "/etc/opencode"}, ""},
		{"OPENCODE_CONFIG_DIR", nil, env{"OPENCODE_CONFIG_DIR": dir + "/etc/opencode/", "XDG_CONFIG_HOME": dir + "/xdg"}, seed},
		{"missing OPENCODE_CONFIG_DIR file is skipped", nil, env{"OPENCODE_CONFIG_DIR": dir + "/nowhere", "XDG_CONFIG_HOME": dir + "/xdg"}, native},
		{"HOME/.config", nil, env{"HOME": dir + "/home"}, homeOpencode},
		{"nothing", nil, env{"HOME": dir + "/empty"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(t, tt.args...).ConfigPath(tt.env.get)
			if got != tt.want || (err != nil) != (tt.want == "") {
				t.Errorf("ConfigPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestEveryFlagHasAnEnvVariable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Flags() {
		if f.Env == "" || !strings.HasPrefix(f.Env, "FEDTOKEN_") || seen[f.Env] {
			t.Errorf("flag %s: environment variable %q missing, misnamed or shared", f.Name, f.Env)
		}
		seen[f.Env] = true
	}
}
