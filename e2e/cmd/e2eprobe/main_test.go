package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func jwtWith(jti string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{"jti":"`+jti+`","iat":1700000000}`)) + ".sig"
}

func TestUpstream(t *testing.T) {
	tests := []struct {
		name, auth string
		want       int
		wantJTI    string
	}{
		{"jwt", "Bearer " + jwtWith("a1"), http.StatusOK, "a1"},
		{"missing", "", http.StatusUnauthorized, ""},
		{"not a jwt", "Bearer opaque", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			upstream(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.wantJTI != "" && !strings.Contains(rec.Body.String(), `"jti":"`+tt.wantJTI+`"`) {
				t.Errorf("body %s", rec.Body)
			}
		})
	}
}

// syncBuffer is a goroutine-safe writer for run's output.
type syncBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// A stand-in for the sidecar: forwards to the probe's upstream with a token
// that changes after a few requests, and fails one request.
func TestRunCountsTokensAndFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upAddr := l.Addr().String()
	l.Close()
	var mu sync.Mutex
	n := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		if i == 3 {
			http.Error(w, "boom", http.StatusBadGateway)
			return
		}
		jti := "first"
		if i > 4 {
			jti = "second"
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://"+upAddr+"/", nil)
		req.Header.Set("Authorization", "Bearer "+jwtWith(jti))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = bufio.NewReader(resp.Body).WriteTo(w)
	}))
	defer proxy.Close()

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-upstream-addr", upAddr, "-target", proxy.URL, "-interval", "5ms", "-summary", "1h"}, out)
	}()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(out.String(), `"jti":"second"`) {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out)
		case <-deadline:
			t.Fatalf("never saw the second token:\n%s", out)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last event
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if last.Event != "summary" || last.Failures != 1 || last.Tokens != 2 {
		t.Errorf("summary = %+v, want 1 failure and 2 tokens", last)
	}
	// The failure carries the start of the answer's body.
	if !strings.Contains(out.String(), `"event":"failure","status":502,"body":"boom"`) {
		t.Errorf("no failure event with status 502 and body \"boom\":\n%s", out)
	}
}

func TestRunCount(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upAddr := l.Addr().String()
	l.Close()
	tests := []struct {
		name    string
		fail    bool
		wantErr bool
	}{
		{"all succeed", false, false},
		{"a failure makes it exit non-zero", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.fail {
					http.Error(w, "boom", http.StatusBadGateway)
					return
				}
				req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://"+upAddr+"/", nil)
				req.Header.Set("Authorization", "Bearer "+jwtWith("c"))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				defer resp.Body.Close()
				_, _ = bufio.NewReader(resp.Body).WriteTo(w)
			}))
			defer proxy.Close()
			out := &syncBuffer{}
			err := run(context.Background(), []string{"-upstream-addr", upAddr, "-target", proxy.URL, "-interval", "1ms", "-count", "5"}, out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v\n%s", err, tt.wantErr, out)
			}
			if !strings.Contains(out.String(), `"requests":5`) {
				t.Errorf("no final summary of 5 requests:\n%s", out)
			}
		})
	}
}

func TestCheckEnv(t *testing.T) {
	tok := jwtWith("the-jti")
	t.Setenv("E2E_TOKEN", tok)
	t.Setenv("E2E_BASE", "http://127.0.0.1:8080/v1")
	var out bytes.Buffer
	err := run(context.Background(), []string{"-env", "E2E_TOKEN", "-base-url-env", "E2E_BASE", "-exit", "3"}, &out)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	var ev event
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Event != "env" || ev.Var != "E2E_TOKEN" || ev.JTI != "the-jti" || ev.BaseURL != "http://127.0.0.1:8080/v1" {
		t.Errorf("event = %+v", ev)
	}
	if strings.Contains(out.String(), tok) {
		t.Error("the token itself was logged")
	}
	if err := run(context.Background(), []string{"-env", "E2E_TOKEN"}, io.Discard); err != nil {
		t.Errorf("-exit 0: %v", err)
	}
	t.Setenv("E2E_TOKEN", "")
	if err := run(context.Background(), []string{"-env", "E2E_TOKEN"}, io.Discard); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty variable: err = %v", err)
	}
}

func TestWaitFileAndDoneFile(t *testing.T) {
	dir := t.TempDir()
	token, done := filepath.Join(dir, "token"), filepath.Join(dir, "done")
	// The token file never appears: the wait gives up, naming it, and the
	// done file is still created.
	err := run(context.Background(), []string{"-wait-file", token, "-wait-timeout", "300ms", "-done-file", done, "-count", "1"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), token) {
		t.Fatalf("err = %v, want a timeout naming %s", err, token)
	}
	if _, err := os.Stat(done); err != nil {
		t.Fatalf("done file after a failed wait: %v", err)
	}
	os.Remove(done)
	// The token file appears while waiting: the calls run (here against a
	// closed port, so they fail), then the done file is created.
	go func() { _ = os.WriteFile(token, []byte("x"), 0o600) }()
	err = run(context.Background(), []string{"-wait-file", token, "-done-file", done, "-count", "1",
		"-interval", "5ms", "-target", "http://127.0.0.1:1/", "-upstream-addr", "127.0.0.1:0"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "1 of 1 calls failed") {
		t.Errorf("err = %v, want the failed call reported", err)
	}
	if _, err := os.Stat(done); err != nil {
		t.Errorf("done file: %v", err)
	}
}
