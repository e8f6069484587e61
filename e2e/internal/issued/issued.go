// Package issued records, for the secret scan that ends `make e2e`, every
// secret the e2e run saw Keycloak and Dex issue or configured them with:
// access, refresh and ID tokens, client secrets, admin credentials and the
// service-account tokens the harness presents as assertions. Values go,
// one per line, to a *.secrets file in $FEDTOKEN_SECRETS_DIR (the same
// directory and format mockidp writes; see mockidp.SecretsDirEnv and
// mockidp/cmd/fedtoken-secretscan). Without the variable nothing is
// recorded.
//
// Only the test process records: pods (e2eprobe, the sidecar) cannot write
// to the host directory, so what they see is recorded where the test
// process sees it too (the gateway, the IdPs' answers, the token files the
// harness reads).
package issued

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// DirEnv names the directory the secrets go to. It is mockidp's
// SecretsDirEnv (the e2e module does not depend on mockidp).
const DirEnv = "FEDTOKEN_SECRETS_DIR"

// TokenFields are the fields of a token-endpoint answer that hold a secret.
var TokenFields = []string{"access_token", "refresh_token", "id_token"}

// Recorder appends secrets, each once, to a file it creates on first use.
type Recorder struct {
	dir string

	mu   sync.Mutex
	f    *os.File
	seen map[string]struct{}
	err  error
}

// New records into a new file in dir; with dir "" it records nothing.
func New(dir string) *Recorder { return &Recorder{dir: dir, seen: map[string]struct{}{}} }

var (
	defaultOnce sync.Once
	defaultRec  *Recorder
)

// Default is the process's recorder, writing into $FEDTOKEN_SECRETS_DIR.
func Default() *Recorder {
	defaultOnce.Do(func() { defaultRec = New(os.Getenv(DirEnv)) })
	return defaultRec
}

// Record records vals with the process's recorder.
func Record(vals ...string) { Default().Record(vals...) }

// RecordTokenResponse records the secrets of a decoded token-endpoint
// answer (TokenFields) with the process's recorder.
func RecordTokenResponse(body map[string]any) { Default().RecordTokenResponse(body) }

// RecordTokenResponse records the TokenFields of body.
func (r *Recorder) RecordTokenResponse(body map[string]any) {
	for _, f := range TokenFields {
		if v, ok := body[f].(string); ok {
			r.Record(v)
		}
	}
}

// Record appends each non-empty value not recorded before. A value that
// spans lines cannot be a line of the file and is skipped. Errors are
// kept for Err: recording never fails a test by itself, the scan does.
func (r *Recorder) Record(vals ...string) {
	if r == nil || r.dir == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if v == "" || strings.ContainsAny(v, "\r\n") {
			continue
		}
		if _, ok := r.seen[v]; ok {
			continue
		}
		if r.f == nil && r.err == nil {
			if r.err = os.MkdirAll(r.dir, 0o700); r.err == nil {
				r.f, r.err = os.CreateTemp(r.dir, "e2e-*.secrets")
			}
		}
		if r.f == nil {
			return
		}
		if _, err := r.f.WriteString(v + "\n"); err != nil {
			r.err = err
			return
		}
		r.seen[v] = struct{}{}
	}
}

// Err is the first error writing the file, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Path is the file written so far ("" before the first value).
func (r *Recorder) Path() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return ""
	}
	return filepath.Clean(r.f.Name())
}
