// Package settings holds fedtoken-sidecar's own settings: the "sidecar"
// section of a native config file, overridden by environment variables,
// overridden by command-line flags. Which providers exist, their IdPs and
// their baseURLs come from the providers of the same config file (native
// or opencode.json); these settings only say how the sidecar serves them.
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Settings are the sidecar's settings. The JSON names are those of the
// "sidecar" section.
type Settings struct {
	// ConfigPath is the config file (flag/env only).
	ConfigPath string `json:"-"`

	// Providers lists the provider ids to serve; empty means every
	// non-interactive provider of the config file.
	Providers []string `json:"providers,omitempty"`
	// Required lists the providers /readyz waits for; empty means all served.
	Required []string `json:"required,omitempty"`

	// AdminAddr is the admin listener (token endpoint, health, metrics, quit).
	AdminAddr string `json:"adminAddr"`
	// HealthAddr is the optional probe listener (health, readiness, metrics).
	HealthAddr string `json:"healthAddr,omitempty"`
	// TokenEndpoint turns GET /v1/token/{provider} on the admin listener on or off.
	TokenEndpoint bool `json:"tokenEndpoint"`
	// AllowedHosts are names accepted in the Host header besides
	// localhost, *.localhost and IP literals (DNS rebinding protection).
	AllowedHosts []string `json:"allowedHosts,omitempty"`

	// Proxy maps a provider id to its proxy listener.
	Proxy map[string]Proxy `json:"proxy,omitempty"`
	// MaxRequestBody caps proxied request bodies, in bytes (0: no cap).
	MaxRequestBody Size `json:"maxRequestBody"`
	// RetryBuffer is how much of a request body is kept for a retry after 401.
	RetryBuffer Size `json:"retryBuffer"`
	// ResponseHeaderTimeout bounds the wait for an upstream's response headers.
	ResponseHeaderTimeout Duration `json:"responseHeaderTimeout"`
	// DialTimeout bounds connecting (TCP and TLS) to an upstream.
	DialTimeout Duration `json:"dialTimeout"`

	// FileSink maps a provider id to the file its access token is kept in.
	FileSink map[string]FileSink `json:"fileSink,omitempty"`

	// OpencodeConfig, when set, keeps an opencode configuration file with
	// the gateway models of the served providers.
	OpencodeConfig *OpencodeConfig `json:"opencodeConfig,omitempty"`

	// QuitFile, when set, makes the sidecar exit once the file exists.
	QuitFile string `json:"quitFile,omitempty"`
	// ShutdownTimeout bounds the drain of in-flight requests.
	ShutdownTimeout Duration `json:"shutdownTimeout"`
	// ShutdownDelay keeps serving this long after SIGTERM before draining.
	ShutdownDelay Duration `json:"shutdownDelay"`
	// StartDelay bounds the random wait before each provider's first
	// token request (0: none), so a fleet started together — a rollout —
	// spreads its first IdP requests. Leave it 0 for Jobs.
	StartDelay Duration `json:"startDelay"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"logLevel"`
}

// Proxy is one provider's proxy.
type Proxy struct {
	// Listen is the listener address, e.g. 127.0.0.1:8080.
	Listen string `json:"listen"`
	// Upstream overrides the provider's baseURL as the proxy's target.
	Upstream string `json:"upstream,omitempty"`
	// CAFile is a PEM bundle trusted for the upstream in addition to the
	// system roots; default the provider's caFile.
	CAFile string `json:"caFile,omitempty"`
}

// FileSink is one provider's token file.
type FileSink struct {
	// Path of the file.
	Path string `json:"path"`
	// Mode is the file mode in octal, e.g. "0640"; default "0640".
	Mode string `json:"mode,omitempty"`
	// UID and GID, when set, are the file's owner (needs CAP_CHOWN unless
	// they are the sidecar's own).
	UID *int `json:"uid,omitempty"`
	GID *int `json:"gid,omitempty"`
}

// OpencodeConfig is the opencode configuration the sidecar writes: Base
// with provider.<id>.models of every served provider that has a baseURL
// set to the models its gateway lists.
type OpencodeConfig struct {
	// Path is the file written (atomically); point OPENCODE_CONFIG at it.
	Path string `json:"path"`
	// Base is the opencode.json the models are merged into (JSONC allowed);
	// read again at every write. Empty means {}.
	Base string `json:"base,omitempty"`
	// Mode is the file mode in octal; default "0644", a ConfigMap's.
	Mode string `json:"mode,omitempty"`
}

// FileMode returns Mode parsed, or the default.
func (o OpencodeConfig) FileMode() (uint32, error) {
	if o.Mode == "" {
		return 0o644, nil
	}
	return FileSink{Mode: o.Mode}.FileMode()
}

// Defaults of the settings.
const (
	DefaultAdminAddr             = "127.0.0.1:9901"
	DefaultMaxRequestBody        = 32 << 20
	DefaultRetryBuffer           = 1 << 20
	DefaultResponseHeaderTimeout = 5 * time.Minute
	DefaultDialTimeout           = 10 * time.Second
	DefaultShutdownTimeout       = 25 * time.Second
	DefaultFileMode              = "0640"
	DefaultLogLevel              = "info"
	// MaxStartDelay bounds startDelay: a first token later than this is a
	// configuration mistake, not a spread.
	MaxStartDelay = 10 * time.Minute
)

// Default returns the settings used when nothing overrides them.
func Default() *Settings {
	return &Settings{
		AdminAddr:             DefaultAdminAddr,
		TokenEndpoint:         true,
		MaxRequestBody:        DefaultMaxRequestBody,
		RetryBuffer:           DefaultRetryBuffer,
		ResponseHeaderTimeout: Duration(DefaultResponseHeaderTimeout),
		DialTimeout:           Duration(DefaultDialTimeout),
		ShutdownTimeout:       Duration(DefaultShutdownTimeout),
		LogLevel:              DefaultLogLevel,
	}
}

// Parse returns the defaults overridden by a "sidecar" section (nil or
// empty means none). Unknown fields are errors, so a typo is not silently
// ignored.
func Parse(section json.RawMessage) (*Settings, error) {
	s := Default()
	if len(bytes.TrimSpace(section)) == 0 || bytes.Equal(bytes.TrimSpace(section), []byte("null")) {
		return s, nil
	}
	dec := json.NewDecoder(bytes.NewReader(section))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("sidecar: %w", explainJSON(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("sidecar: trailing data after the section")
	}
	return s, nil
}

func explainJSON(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: expected %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s (see docs/sidecar.md for the fields)", msg)
	}
	return err
}

// Validate checks values whose syntax Parse cannot: modes, sizes,
// durations, log level.
func (s *Settings) Validate() error {
	var errs []error
	for id, f := range s.FileSink {
		if f.Path == "" {
			errs = append(errs, fmt.Errorf("sidecar.fileSink.%s.path: required", id))
		}
		if _, err := f.FileMode(); err != nil {
			errs = append(errs, fmt.Errorf("sidecar.fileSink.%s.mode: %w", id, err))
		}
	}
	for id, p := range s.Proxy {
		if p.Listen == "" {
			errs = append(errs, fmt.Errorf("sidecar.proxy.%s.listen: required (e.g. 127.0.0.1:8080)", id))
		}
	}
	for name, d := range map[string]Duration{"responseHeaderTimeout": s.ResponseHeaderTimeout, "dialTimeout": s.DialTimeout, "shutdownTimeout": s.ShutdownTimeout, "shutdownDelay": s.ShutdownDelay} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("sidecar.%s: must not be negative", name))
		}
	}
	if s.StartDelay < 0 || s.StartDelay > Duration(MaxStartDelay) {
		errs = append(errs, fmt.Errorf("sidecar.startDelay: must be between 0 and %s, got %s", MaxStartDelay, time.Duration(s.StartDelay)))
	}
	for name, n := range map[string]Size{"maxRequestBody": s.MaxRequestBody, "retryBuffer": s.RetryBuffer} {
		if n < 0 {
			errs = append(errs, fmt.Errorf("sidecar.%s: must not be negative", name))
		}
	}
	if o := s.OpencodeConfig; o != nil {
		if o.Path == "" {
			errs = append(errs, errors.New("sidecar.opencodeConfig.path: required (the file opencode reads, e.g. /var/run/fedtoken/opencode.json)"))
		}
		if _, err := o.FileMode(); err != nil {
			errs = append(errs, fmt.Errorf("sidecar.opencodeConfig.mode: %w", err))
		}
	}
	switch strings.ToLower(s.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("sidecar.logLevel: %q is not one of debug, info, warn, error", s.LogLevel))
	}
	return errors.Join(errs...)
}

// FileMode parses Mode (default DefaultFileMode).
func (f FileSink) FileMode() (uint32, error) {
	m := f.Mode
	if m == "" {
		m = DefaultFileMode
	}
	v, err := strconv.ParseUint(m, 8, 32)
	if err != nil || v > 0o777 {
		return 0, fmt.Errorf("%q is not an octal file mode such as 0640", f.Mode)
	}
	// The file holds a bearer token: readable by its owner and/or group,
	// never by others, never writable by the group, never executable.
	if v&^0o640 != 0 || v&0o440 == 0 {
		return 0, fmt.Errorf("%q would expose or lose the token file: use 0600 (owner only) or 0640 (owner, and the group "+
			"read-only, e.g. the pod's fsGroup); other users, group write and execute bits are refused", f.Mode)
	}
	return uint32(v), nil
}

// Duration is a time.Duration written as a Go duration string ("30s",
// "5m") in JSON and YAML.
type Duration time.Duration

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"30s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\" or \"5m\"", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Size is a byte count, written as a number or a string with a binary
// suffix ("512Ki", "32Mi", "1Gi").
type Size int64

// UnmarshalJSON accepts a number or a suffixed string.
func (n *Size) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	v, err := ParseSize(s)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// ParseSize parses "1048576", "1024Ki", "32Mi" or "1Gi".
func ParseSize(s string) (Size, error) {
	mult := int64(1)
	num := strings.TrimSpace(s)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if rest, ok := strings.CutSuffix(num, suffix); ok {
			num, mult = rest, m
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size in bytes such as 1048576 or 32Mi", s)
	}
	return Size(v * mult), nil
}
