package settings

import (
	"errors"
	"flag"
	"fmt"
	"github.com/fedtoken/fedtoken/core/config"
	"net"
	"strconv"
	"strings"
	"time"
)

// Flag is one command-line flag and its environment variable. A list flag
// may be repeated; its variable holds a comma-separated list.
type Flag struct {
	// Name is the flag name without dashes.
	Name string
	// Env is the environment variable read when the flag is not given.
	Env string
	// Field is the "sidecar" section field it overrides ("" for none).
	Field string
	// Usage is the one-line help.
	Usage string
	// List flags may be repeated.
	List bool
	// Bool flags take no value (--name or --name=false).
	Bool bool

	set func(s *Settings, v string) error
}

// Flags returns every flag of fedtoken-sidecar, in help order.
func Flags() []Flag {
	return []Flag{
		{Name: "config", Env: "FEDTOKEN_CONFIG", Usage: "config file: native fedtoken YAML/JSON or opencode.json (default: $OPENCODE_CONFIG_DIR/opencode.json, then ~/.config/fedtoken/config.yaml, …)",
			set: func(s *Settings, v string) error { s.ConfigPath = v; return nil }},
		{Name: "provider", Env: "FEDTOKEN_SIDECAR_PROVIDERS", Field: "providers", List: true, Usage: "provider id to serve (repeatable; default every non-interactive provider)",
			set: func(s *Settings, v string) error { s.Providers = append(s.Providers, v); return nil }},
		{Name: "required", Env: "FEDTOKEN_SIDECAR_REQUIRED", Field: "required", List: true, Usage: "provider id /readyz waits for (repeatable; default every served provider)",
			set: func(s *Settings, v string) error { s.Required = append(s.Required, v); return nil }},
		{Name: "admin-addr", Env: "FEDTOKEN_SIDECAR_ADMIN_ADDR", Field: "adminAddr", Usage: "admin listener: token endpoint, /healthz, /readyz, /metrics, /quitquitquit, /refresh (\"\" disables; default " + DefaultAdminAddr + ")",
			set: func(s *Settings, v string) error { s.AdminAddr = v; return checkAddr(v, true) }},
		{Name: "health-addr", Env: "FEDTOKEN_SIDECAR_HEALTH_ADDR", Field: "healthAddr", Usage: "probe listener: /healthz, /readyz, /metrics only, e.g. :9902 for kubelet probes (default off)",
			set: func(s *Settings, v string) error { s.HealthAddr = v; return checkAddr(v, true) }},
		{Name: "token-endpoint", Env: "FEDTOKEN_SIDECAR_TOKEN_ENDPOINT", Field: "tokenEndpoint", Bool: true, Usage: "serve GET /v1/token/{provider} on the admin listener (default true)",
			set: func(s *Settings, v string) (err error) { s.TokenEndpoint, err = parseBool(v); return err }},
		{Name: "allowed-host", Env: "FEDTOKEN_SIDECAR_ALLOWED_HOSTS", Field: "allowedHosts", List: true, Usage: "NAME accepted in the Host header besides localhost, *.localhost and IP addresses, e.g. a Service name (repeatable; DNS rebinding protection)",
			set: func(s *Settings, v string) error { s.AllowedHosts = append(s.AllowedHosts, v); return nil }},
		{Name: "proxy", Env: "FEDTOKEN_SIDECAR_PROXY", Field: "proxy.<id>.listen", List: true, Usage: "[ID=]ADDR: serve provider ID's auth-injecting proxy on ADDR, e.g. miaou=127.0.0.1:8181 (repeatable)",
			set: func(s *Settings, v string) error {
				id, addr := splitPair(v)
				if err := checkAddr(addr, false); err != nil {
					return err
				}
				p := s.Proxy[id]
				p.Listen = addr
				s.Proxy = put(s.Proxy, id, p)
				return nil
			}},
		{Name: "upstream", Env: "FEDTOKEN_SIDECAR_UPSTREAM", Field: "proxy.<id>.upstream", List: true, Usage: "[ID=]URL: send provider ID's proxied requests to URL instead of its baseURL (repeatable)",
			set: func(s *Settings, v string) error {
				id, u := splitPair(v)
				p := s.Proxy[id]
				p.Upstream = u
				s.Proxy = put(s.Proxy, id, p)
				return nil
			}},
		{Name: "max-request-body", Env: "FEDTOKEN_SIDECAR_MAX_REQUEST_BODY", Field: "maxRequestBody", Usage: "largest proxied request body, bytes or 32Mi (0: no limit; default 32Mi)",
			set: func(s *Settings, v string) (err error) { s.MaxRequestBody, err = ParseSize(v); return err }},
		{Name: "retry-buffer", Env: "FEDTOKEN_SIDECAR_RETRY_BUFFER", Field: "retryBuffer", Usage: "request bodies up to this size are buffered so a request can be retried after a 401 (default 1Mi)",
			set: func(s *Settings, v string) (err error) { s.RetryBuffer, err = ParseSize(v); return err }},
		{Name: "response-header-timeout", Env: "FEDTOKEN_SIDECAR_RESPONSE_HEADER_TIMEOUT", Field: "responseHeaderTimeout", Usage: "how long to wait for an upstream's response headers (default 5m; streams are not cut)",
			set: func(s *Settings, v string) error { return setDuration(&s.ResponseHeaderTimeout, v) }},
		{Name: "dial-timeout", Env: "FEDTOKEN_SIDECAR_DIAL_TIMEOUT", Field: "dialTimeout", Usage: "TCP and TLS set-up timeout towards an upstream (default 10s)",
			set: func(s *Settings, v string) error { return setDuration(&s.DialTimeout, v) }},
		{Name: "file-sink", Env: "FEDTOKEN_SIDECAR_FILE_SINK", Field: "fileSink.<id>.path", List: true, Usage: "[ID=]PATH: keep provider ID's access token in PATH (repeatable)",
			set: func(s *Settings, v string) error {
				id, path := splitPair(v)
				f := s.FileSink[id]
				f.Path = path
				s.FileSink = put(s.FileSink, id, f)
				return nil
			}},
		{Name: "file-sink-mode", Env: "FEDTOKEN_SIDECAR_FILE_SINK_MODE", Field: "fileSink.<id>.mode", Usage: "octal mode of every token file (default 0640)",
			set: func(s *Settings, v string) error {
				if _, err := (FileSink{Mode: v}).FileMode(); err != nil {
					return err
				}
				s.FileSink = forEach(s.FileSink, func(f *FileSink) { f.Mode = v })
				return nil
			}},
		{Name: "file-sink-owner", Env: "FEDTOKEN_SIDECAR_FILE_SINK_OWNER", Field: "fileSink.<id>.uid/gid", Usage: "UID[:GID] owning every token file (default: the sidecar's own)",
			set: func(s *Settings, v string) error {
				uid, gid, err := parseOwner(v)
				if err != nil {
					return err
				}
				s.FileSink = forEach(s.FileSink, func(f *FileSink) { f.UID, f.GID = uid, gid })
				return nil
			}},
		{Name: "opencode-config", Env: "FEDTOKEN_SIDECAR_OPENCODE_CONFIG", Field: "opencodeConfig.path", Usage: "write opencode's configuration with every provider's gateway models to PATH, re-synced every syncIntervalMinutes (point OPENCODE_CONFIG at it)",
			set: func(s *Settings, v string) error {
				o := opencodeConfig(s)
				o.Path = v
				return nil
			}},
		{Name: "opencode-config-base", Env: "FEDTOKEN_SIDECAR_OPENCODE_CONFIG_BASE", Field: "opencodeConfig.base", Usage: "opencode.json the synced models are merged into (default: none)",
			set: func(s *Settings, v string) error {
				o := opencodeConfig(s)
				o.Base = v
				return nil
			}},
		{Name: "quit-file", Env: "FEDTOKEN_SIDECAR_QUIT_FILE", Field: "quitFile", Usage: "exit once this file exists (Jobs on clusters without native sidecars)",
			set: func(s *Settings, v string) error { s.QuitFile = v; return nil }},
		{Name: "shutdown-timeout", Env: "FEDTOKEN_SIDECAR_SHUTDOWN_TIMEOUT", Field: "shutdownTimeout", Usage: "how long to drain in-flight requests at shutdown (default 25s)",
			set: func(s *Settings, v string) error { return setDuration(&s.ShutdownTimeout, v) }},
		{Name: "shutdown-delay", Env: "FEDTOKEN_SIDECAR_SHUTDOWN_DELAY", Field: "shutdownDelay", Usage: "keep serving this long after SIGTERM before draining (default 0)",
			set: func(s *Settings, v string) error { return setDuration(&s.ShutdownDelay, v) }},
		{Name: "start-delay", Env: "FEDTOKEN_SIDECAR_START_DELAY", Field: "startDelay", Usage: "wait a random time up to this before each provider's first token request, so a rollout of many pods spreads its IdP requests; readiness waits too, and a request that needs a token does not (default 0: none; leave 0 for Jobs; at most 10m)",
			set: func(s *Settings, v string) error { return setDuration(&s.StartDelay, v) }},
		{Name: "log-level", Env: "FEDTOKEN_LOG_LEVEL", Field: "logLevel", Usage: "debug, info, warn or error (default info)",
			set: func(s *Settings, v string) error { s.LogLevel = v; return nil }},
	}
}

// Overrides are the flag values given on the command line; Apply adds the
// environment.
type Overrides struct {
	given map[string][]string
	flags []Flag
}

// Register defines every flag on fs and returns where their values land.
func Register(fs *flag.FlagSet) *Overrides {
	o := &Overrides{given: map[string][]string{}, flags: Flags()}
	for _, f := range o.flags {
		record := func(v string) error {
			if !f.List {
				o.given[f.Name] = nil
			}
			o.given[f.Name] = append(o.given[f.Name], v)
			return nil
		}
		if f.Bool {
			fs.BoolFunc(f.Name, f.Usage+" [$"+f.Env+"]", record)
		} else {
			fs.Func(f.Name, f.Usage+" [$"+f.Env+"]", record)
		}
	}
	return o
}

// values returns the flag's values: from the command line, else from its
// environment variable, else none.
func (o *Overrides) values(f Flag, getenv func(string) string) []string {
	if v, ok := o.given[f.Name]; ok {
		return v
	}
	env := getenv(f.Env)
	if env == "" {
		return nil
	}
	if !f.List {
		return []string{env}
	}
	var out []string
	for _, part := range strings.Split(env, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ConfigPath returns the config file, found exactly as the fedtoken CLI
// finds it (config.Find): --config, else $FEDTOKEN_CONFIG (both must
// exist), else the first existing file among config.Candidates — the
// seed's $OPENCODE_CONFIG_DIR/opencode.json first.
func (o *Overrides) ConfigPath(getenv func(string) string) (string, error) {
	var flag string
	if _, ok := o.given["config"]; ok {
		for _, f := range o.flags {
			if f.Name == "config" {
				if v := o.values(f, getenv); len(v) > 0 {
					flag = v[len(v)-1]
				}
			}
		}
	}
	return config.Find(flag, config.SearchEnv{Getenv: getenv})
}

// Apply overrides s with the environment, then the command line. A list
// given there replaces the section's list.
func (o *Overrides) Apply(s *Settings, getenv func(string) string) error {
	var errs []error
	for _, f := range o.flags {
		vals := o.values(f, getenv)
		if len(vals) == 0 {
			continue
		}
		switch f.Name {
		case "provider":
			s.Providers = nil
		case "required":
			s.Required = nil
		}
		source := "--" + f.Name
		if _, ok := o.given[f.Name]; !ok {
			source = "$" + f.Env
		}
		for _, v := range vals {
			if err := f.set(s, v); err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", source, v, err))
			}
		}
	}
	return errors.Join(errs...)
}

// splitPair splits "ID=VALUE"; a value with no "=" belongs to provider ""
// (the only provider).
func splitPair(v string) (id, value string) {
	if id, value, ok := strings.Cut(v, "="); ok {
		return id, value
	}
	return "", v
}

func put[T any](m map[string]T, k string, v T) map[string]T {
	if m == nil {
		m = map[string]T{}
	}
	m[k] = v
	return m
}

// forEach applies fn to every sink defined so far (the section's, and
// --file-sink's, which Apply handles first).
func forEach(m map[string]FileSink, fn func(*FileSink)) map[string]FileSink {
	if m == nil {
		m = map[string]FileSink{}
	}
	for k, f := range m {
		fn(&f)
		m[k] = f
	}
	return m
}

func checkAddr(addr string, emptyOK bool) error {
	if addr == "" {
		if emptyOK {
			return nil
		}
		return errors.New("empty address")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("not a host:port address such as 127.0.0.1:8080: %w", err)
	}
	return nil
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("not a boolean (true or false)")
	}
	return b, nil
}

func setDuration(d *Duration, v string) error {
	x, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("not a duration such as 30s or 5m")
	}
	*d = Duration(x)
	return nil
}

func parseOwner(v string) (uid, gid *int, err error) {
	us, gs, hasGID := strings.Cut(v, ":")
	u, err := strconv.Atoi(us)
	if err != nil || u < 0 {
		return nil, nil, fmt.Errorf("not UID[:GID] with numeric ids, e.g. 1000:1000")
	}
	uid = &u
	if hasGID {
		g, err := strconv.Atoi(gs)
		if err != nil || g < 0 {
			return nil, nil, fmt.Errorf("not UID[:GID] with numeric ids, e.g. 1000:1000")
		}
		gid = &g
	}
	return uid, gid, nil
}

// opencodeConfig returns s.OpencodeConfig, created when nil.
func opencodeConfig(s *Settings) *OpencodeConfig {
	if s.OpencodeConfig == nil {
		s.OpencodeConfig = &OpencodeConfig{}
	}
	return s.OpencodeConfig
}
