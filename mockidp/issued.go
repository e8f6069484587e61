package mockidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// SecretsDirEnv names the directory where test runs collect the secrets
// their IdPs issued: mockidptest.Start and the fedtoken-mockidp binary
// record into it when it is set (see WithIssuedSecrets), and the secret
// scanner (cmd/fedtoken-secretscan) searches the run's logs for them.
const SecretsDirEnv = "FEDTOKEN_SECRETS_DIR"

// WithIssuedSecrets records every secret the server hands out or is
// configured with, one per line, to w: access, refresh and ID tokens and
// device codes in token-endpoint answers, minted service-account tokens,
// client secrets and user passwords. A test run scans its logs for them.
// Given more than once, every writer gets every secret.
func WithIssuedSecrets(w io.Writer) Option {
	return optionFunc(func(s *settings) error {
		if w == nil {
			return errors.New("mockidp: WithIssuedSecrets(nil)")
		}
		if s.issued == nil {
			s.issued = &issuedLog{w: w}
		} else {
			s.issued.w = io.MultiWriter(s.issued.w, w)
		}
		return nil
	})
}

// IssuedSecretsFile opens a new file in dir for WithIssuedSecrets (0600;
// the caller closes it).
func IssuedSecretsFile(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, "issued-*.secrets")
}

// issuedLog writes secrets, one per line.
type issuedLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *issuedLog) record(vals ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" && !strings.ContainsAny(v, "\r\n") {
			io.WriteString(l.w, v+"\n")
		}
	}
}

// recordConfigured records the configured client secrets and passwords.
func (l *issuedLog) recordConfigured(cfg Config) {
	for _, is := range cfg.Issuers {
		for _, c := range is.Clients {
			l.record(string(c.Secret))
		}
		for _, u := range is.Users {
			l.record(string(u.Password))
		}
	}
}

// secretFields are the JSON fields of an answer that hold a secret.
var secretFields = []string{"access_token", "refresh_token", "id_token", "device_code"}

// recordAnswers wraps h so that the secrets in JSON answers are recorded.
func (l *issuedLog) recordAnswers(h http.Handler) http.Handler {
	if l == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &capture{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		var body map[string]any
		if json.Unmarshal(cw.buf.Bytes(), &body) != nil {
			return
		}
		for _, f := range secretFields {
			if v, ok := body[f].(string); ok {
				l.record(v)
			}
		}
	})
}

// capture keeps a copy of a (small) response body.
type capture struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	if c.buf.Len() < 1<<20 {
		c.buf.Write(p)
	}
	return c.ResponseWriter.Write(p)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// IssuedSecretsFromEnv opens a new file in $FEDTOKEN_SECRETS_DIR for
// WithIssuedSecrets, or returns nil when the variable is unset. It is what
// mockidptest.Start and the binary use.
func IssuedSecretsFromEnv() (io.WriteCloser, error) {
	dir := os.Getenv(SecretsDirEnv)
	if dir == "" {
		return nil, nil
	}
	return IssuedSecretsFile(filepath.Clean(dir))
}
