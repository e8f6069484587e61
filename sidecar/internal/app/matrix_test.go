package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

// The fault and abuse matrix of the sidecar (docs/security.md): hostile
// requests to the proxy and the admin listener, each with the answer
// expected and the IdP token requests it may cause (0: none beyond the
// first token). The IdP-storm rows (TestNoIdPStorm…) are its slow rows.

type sidecarRow struct {
	name     string // the request or fault
	listener string // "proxy/miaou" or "admin"
	raw      string // the request; {{HOST}} is the listener's address
	status   int
	// forwarded says whether the upstream may see the request.
	forwarded bool
	slow      bool
}

func sidecarRows() []sidecarRow {
	tok := tokenendpoint.Header + ": " + tokenendpoint.HeaderValue + "\r\n"
	return []sidecarRow{
		{name: "proxy: ordinary GET", listener: "proxy/miaou", raw: "GET /models HTTP/1.1\r\nHost: {{HOST}}\r\n\r\n", status: 200, forwarded: true},
		{name: "proxy: DNS-rebound Host", listener: "proxy/miaou", raw: "GET /models HTTP/1.1\r\nHost: rebind.attacker.example:{{PORT}}\r\n\r\n", status: 421},
		{name: "proxy: TRACE", listener: "proxy/miaou", raw: "TRACE /models HTTP/1.1\r\nHost: {{HOST}}\r\n\r\n", status: 405},
		{name: "proxy: CONNECT", listener: "proxy/miaou", raw: "CONNECT 127.0.0.2:443 HTTP/1.1\r\nHost: 127.0.0.2:443\r\n\r\n", status: 405},
		{name: "proxy: absolute-form target", listener: "proxy/miaou", raw: "GET http://127.0.0.2:1/x HTTP/1.1\r\nHost: 127.0.0.2:1\r\n\r\n", status: 400},
		{name: "proxy: dot-segments", listener: "proxy/miaou", raw: "GET /v1/../../admin HTTP/1.1\r\nHost: {{HOST}}\r\n\r\n", status: 400},
		{name: "proxy: encoded dot-segments", listener: "proxy/miaou", raw: "GET /%2e%2e/admin HTTP/1.1\r\nHost: {{HOST}}\r\n\r\n", status: 400},
		{name: "proxy: malformed chunked body", listener: "proxy/miaou", raw: "POST /x HTTP/1.1\r\nHost: {{HOST}}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400},
		{name: "proxy: body over maxRequestBody", listener: "proxy/miaou", raw: "POST /x HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Length: 999999999999\r\n\r\n", status: 413},
		{name: "proxy: Content-Length and chunked together (smuggling)", listener: "proxy/miaou", raw: "POST /x HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 200, forwarded: true},
		{name: "proxy: body trickled slower than 30 s", listener: "proxy/miaou", raw: "POST /x HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Length: 10\r\n\r\nabc", status: 408, slow: true},
		{name: "proxy: huge header block", listener: "proxy/miaou", raw: "GET /x HTTP/1.1\r\nHost: {{HOST}}\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", status: 431},
		{name: "admin: token with header", listener: "admin", raw: "GET /v1/token/miaou HTTP/1.1\r\nHost: {{HOST}}\r\n" + tok + "\r\n", status: 200},
		{name: "admin: token without Fedtoken-Request", listener: "admin", raw: "GET /v1/token/miaou HTTP/1.1\r\nHost: {{HOST}}\r\n\r\n", status: 403},
		{name: "admin: token via a relaying proxy", listener: "admin", raw: "GET /v1/token/miaou HTTP/1.1\r\nHost: {{HOST}}\r\nX-Forwarded-For: 10.0.0.1\r\n" + tok + "\r\n", status: 403},
		{name: "admin: token from a DNS-rebound page", listener: "admin", raw: "GET /v1/token/miaou HTTP/1.1\r\nHost: rebind.attacker.example:{{PORT}}\r\n" + tok + "\r\n", status: 421},
		{name: "admin: quit from a DNS-rebound page", listener: "admin", raw: "POST /quitquitquit HTTP/1.1\r\nHost: rebind.attacker.example\r\n" + tok + "Content-Length: 0\r\n\r\n", status: 421},
	}
}

// TestMatrixHostileRequests sends every row to a running sidecar.
func TestMatrixHostileRequests(t *testing.T) {
	subject, _ := subjectJWT(t)
	idp := newIdP(t, subject)
	var forwarded atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded.Add(1)
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(upstream.Close)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, idp.URL, upstream.URL+"/v1", subject)
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
		return map[string]string{"FEDTOKEN_CONFIG": cfg}[k]
	}}
	srv, _, err := Build(env, []string{"--admin-addr", "127.0.0.1:0", "--proxy", "127.0.0.1:0", "--file-sink", filepath.Join(dir, "token")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-srv.Started()
	waitFor(t, "the first token", func() bool {
		idp.mu.Lock()
		defer idp.mu.Unlock()
		return idp.issued > 0
	})
	for _, row := range sidecarRows() {
		t.Run(row.name, func(t *testing.T) {
			if row.slow && !matrixAll {
				t.Skip("slow row: make matrix runs it")
			}
			addr := srv.Addr(row.listener).String()
			_, port, _ := net.SplitHostPort(addr)
			req := strings.NewReplacer("{{HOST}}", addr, "{{PORT}}", port).Replace(row.raw)
			before := forwarded.Load()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, req)
			c.SetReadDeadline(time.Now().Add(45 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode != row.status {
				t.Errorf("status = %d (%s), want %d", resp.StatusCode, strings.TrimSpace(string(body)), row.status)
			}
			if got := forwarded.Load() - before; !row.forwarded && got != 0 {
				t.Errorf("the upstream received %d requests", got)
			}
			if row.status != 200 && strings.Contains(string(body), "at-") {
				t.Errorf("a refusal carries a token: %s", body)
			}
		})
	}
	idp.mu.Lock()
	issued := idp.issued
	idp.mu.Unlock()
	if issued != 1 {
		t.Errorf("IdP token requests = %d, want 1 (hostile requests cost none)", issued)
	}
}

// TestMatrixIsDocumented: every row is listed in docs/security.md.
func TestMatrixIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range sidecarRows() {
		name := row.name
		if row.slow {
			name += " — *slow*"
		}
		if !strings.Contains(string(doc), "| "+name+" | "+strconv.Itoa(row.status)) {
			t.Errorf("docs/security.md does not list the row %q with status %d", row.name, row.status)
		}
	}
}
