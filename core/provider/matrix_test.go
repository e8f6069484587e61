package provider_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/provider"
)

// The fault and abuse matrix of the grant library (docs/security.md,
// "Fault and abuse matrix"): each row is an IdP fault or a hostile or
// broken subject token, the behaviour expected of a provider, and the
// number of IdP token requests the row may cause while 50 more callers ask
// for a token straight after the first. Slow rows run only with
// `make matrix` (build tag matrix).

// matrixAudience is the audience the matrix IdP pins.
const matrixAudience = "https://idp.matrix"

// matrixIdP is a jwt-bearer token endpoint: it checks the assertion's aud
// and exp like a real IdP, and fault(n) may replace its answer to request n
// (1-based); fault returns false to answer normally.
func matrixIdP(t *testing.T, fault func(w http.ResponseWriter, r *http.Request, n int64) bool) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if fault != nil && fault(w, r, i) {
			return
		}
		r.ParseForm()
		_, claims, err := jwt.Decode(r.PostForm.Get("assertion"))
		switch {
		case err != nil:
			oauthError(w, 400, "invalid_grant", "assertion: not a JWT")
		case len(claims.Audience) == 0 || claims.Audience[0] != matrixAudience:
			oauthError(w, 400, "invalid_grant", "assertion: audience not allowed")
		case claims.Expired(time.Now(), 0):
			oauthError(w, 400, "invalid_grant", "assertion: token expired")
		default:
			tokenJSON(w, fmt.Sprintf("matrix-at-%d", i), 3600)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, desc)
}

func matrixSubject(aud string, exp time.Time) string {
	return fakeJWT(map[string]any{"iss": "https://cluster", "sub": "system:serviceaccount:ai-jobs:runner", "aud": []string{aud}, "exp": exp.Unix()})
}

type matrixRow struct {
	name   string // the input or fault
	expect string // the behaviour, as docs/security.md lists it; "" in err means a token
	slow   bool
	// idp may replace the IdP's answer; subject writes the subject file.
	idp     func(w http.ResponseWriter, r *http.Request, n int64) bool
	subject func(t *testing.T, path string)
	// tokenURL overrides the IdP's token endpoint (an outage).
	tokenURL string
	// err is a substring of the expected error; "" expects a token.
	err string
	// maxIdP is the most IdP token requests the row may cause.
	maxIdP int64
}

func writeFile(content string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func matrixRows() []matrixRow {
	good := writeFile(matrixSubject(matrixAudience, time.Now().Add(time.Hour)))
	status := func(code int, body string, times int64) func(http.ResponseWriter, *http.Request, int64) bool {
		return func(w http.ResponseWriter, _ *http.Request, n int64) bool {
			if times > 0 && n > times {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprint(w, body)
			return true
		}
	}
	return []matrixRow{
		// IdP faults.
		{name: "IdP 503 on every request", expect: "error naming temporarily_unavailable after 4 attempts; callers get it at once during the cool-down",
			idp: status(503, `{"error":"temporarily_unavailable"}`, 0), err: "temporarily_unavailable", maxIdP: 4},
		{name: "IdP 500 HTML page once", expect: "retried, token", idp: status(500, "<html>oops</html>", 1), maxIdP: 2},
		{name: "IdP 429 without Retry-After once", expect: "retried, token", idp: status(429, "Too Many Requests", 1), maxIdP: 2},
		{name: "IdP 429 Retry-After: 3600", expect: "not retried within the request; no acquisition for the hour asked",
			idp: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
				w.Header().Set("Retry-After", "3600")
				oauthError(w, 429, "temporarily_unavailable", "busy")
				return true
			}, err: "Retry-After", maxIdP: 1},
		{name: "IdP never answers (timeout)", expect: "each attempt cut by httpTimeout, error after 4", slow: true,
			idp: func(_ http.ResponseWriter, r *http.Request, _ int64) bool {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return true
			},
			err: "Client.Timeout", maxIdP: 4},
		{name: "IdP resets the connection", expect: "network error after 4 attempts",
			idp: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
				c, _, _ := http.NewResponseController(w).Hijack()
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				c.Close()
				return true
			}, err: "connection", maxIdP: 4},
		{name: "IdP answers malformed JSON", expect: "error naming the body, not retried",
			idp: status(200, `{"access_token": "trunc`, 0), err: "not a JSON object", maxIdP: 1},
		{name: "IdP answer lacks access_token", expect: "error naming the field",
			idp: status(200, `{"token_type":"Bearer","expires_in":300}`, 0), err: `no "access_token"`, maxIdP: 1},
		{name: "IdP answer lacks expires_in", expect: "token, reused for 1 s (at most one IdP request a second)",
			idp: status(200, `{"access_token":"no-expiry-at","token_type":"Bearer"}`, 0), maxIdP: 2},
		{name: "IdP answers invalid_grant", expect: "error, not retried", idp: status(400, `{"error":"invalid_grant","error_description":"no"}`, 0),
			err: "invalid_grant", maxIdP: 1},
		{name: "IdP answer larger than 1 MiB", expect: "error, body not read further",
			idp: status(200, `{"access_token":"`+strings.Repeat("a", 2<<20)+`"}`, 0), err: "exceeds", maxIdP: 1},
		{name: "IdP outage (connection refused)", expect: "network error after 4 attempts", tokenURL: "http://127.0.0.1:1/token",
			err: "connection refused", maxIdP: 0},
		// Subject tokens.
		{name: "subject file missing", expect: "error naming the path, no IdP request",
			subject: func(*testing.T, string) {}, err: "no such file", maxIdP: 0},
		{name: "subject file empty", expect: "error, no IdP request", subject: writeFile("\n"), err: "empty", maxIdP: 0},
		{name: "subject is garbage (not a JWT)", expect: "sent as is; IdP's invalid_grant", subject: writeFile("garbage-not-a-jwt"),
			err: "not a JWT", maxIdP: 1},
		{name: "subject JWT expired", expect: "error naming exp, no IdP request",
			subject: writeFile(matrixSubject(matrixAudience, time.Now().Add(-time.Minute))), err: "token expired at", maxIdP: 0},
		{name: "subject JWT with wrong aud", expect: "IdP's invalid_grant naming the audience",
			subject: writeFile(matrixSubject("https://elsewhere", time.Now().Add(time.Hour))), err: "audience", maxIdP: 1},
		{name: "subject file is a FIFO", expect: "refused at once as not a regular file, no IdP request",
			subject: func(t *testing.T, path string) {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			}, err: "not a regular file", maxIdP: 0},
		{name: "subject path is a directory", expect: "error, no IdP request",
			subject: func(t *testing.T, path string) { os.Mkdir(path, 0o700) }, err: "directory", maxIdP: 0},
		{name: "subject file of 1 MiB", expect: "error naming the 64 KiB limit, no IdP request",
			subject: writeFile(strings.Repeat("x", 1<<20)), err: "larger than 64 KiB", maxIdP: 0},
		{name: "subject file with two tokens", expect: "error, no IdP request",
			subject: writeFile("a.b.c\nd.e.f\n"), err: "several lines", maxIdP: 0},
		{name: "healthy IdP and subject", expect: "token; 50 more callers served from the cache", subject: good, maxIdP: 1},
	}
}

// TestMatrixGrantFaults runs every row of the grant library's matrix.
func TestMatrixGrantFaults(t *testing.T) {
	for _, row := range matrixRows() {
		t.Run(row.name, func(t *testing.T) {
			if row.slow && !matrixAll {
				t.Skip("slow row: make matrix runs it")
			}
			srv, requests := matrixIdP(t, row.idp)
			dir := t.TempDir()
			subjectPath := filepath.Join(dir, "token")
			if row.subject != nil {
				row.subject(t, subjectPath)
			} else {
				writeFile(matrixSubject(matrixAudience, time.Now().Add(time.Hour)))(t, subjectPath)
			}
			cfg := jwtBearerConfig(srv.URL+"/token", subjectPath)
			if row.tokenURL != "" {
				cfg.TokenEndpoint = row.tokenURL
			}
			cfg.HTTPTimeout = 300 * time.Millisecond
			p, err := provider.New(cfg, provider.WithRetry(oauth.RetryPolicy{MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}),
				provider.WithStore(cache.FileStore{Dir: filepath.Join(dir, "cache")}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := p.TokenContext(ctx)
			check(t, row, tok != nil, err)
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					tok, err := p.TokenContext(ctx)
					if row.err == "" && (err != nil || tok == nil) {
						t.Errorf("a later caller got %v", err)
					}
				})
			}
			wg.Wait()
			if n := requests.Load(); n > row.maxIdP {
				t.Errorf("IdP token requests = %d, want at most %d", n, row.maxIdP)
			}
		})
	}
}

func check(t *testing.T, row matrixRow, gotToken bool, err error) {
	t.Helper()
	switch {
	case row.err == "" && err != nil:
		t.Fatalf("want a token, got %v", err)
	case row.err == "" && !gotToken:
		t.Fatal("want a token, got none")
	case row.err != "" && err == nil:
		t.Fatalf("want an error containing %q, got a token", row.err)
	case row.err != "" && !strings.Contains(err.Error(), row.err):
		t.Fatalf("error = %v, want it to contain %q", err, row.err)
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) && !strings.Contains(row.err, "Timeout") {
		t.Fatalf("the caller's deadline ran out: %v", err)
	}
}

// TestMatrixIsDocumented: every row is listed in docs/security.md.
func TestMatrixIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range matrixRows() {
		name := row.name
		if row.slow {
			name += " — *slow*"
		}
		if !strings.Contains(string(doc), "| "+name+" | "+row.expect+" |") {
			t.Errorf("docs/security.md does not list the row %q with its expected behaviour", row.name)
		}
	}
}
