// Command e2eprobe is the "app" of the e2e rotation suite. It serves a
// loopback upstream that records the bearer token each request carries, and
// calls that upstream through fedtoken-sidecar's proxy at a fixed interval,
// logging one JSON line per new access token, per failed request, and a
// summary every few seconds. It never logs a token, only its jti and iat.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "e2eprobe:", err)
		os.Exit(1)
	}
}

// exitCode is the status -exit asks for.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// event is one log line.
type event struct {
	Time     string `json:"time"`
	Event    string `json:"event"` // token, failure, summary
	JTI      string `json:"jti,omitempty"`
	IAT      int64  `json:"iat,omitempty"`
	Issuer   string `json:"iss,omitempty"`
	Status   int    `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
	Body     string `json:"body,omitempty"` // start of a failed answer (the sidecar's error text)
	Requests int    `json:"requests,omitempty"`
	Failures int    `json:"failures"`
	Tokens   int    `json:"tokens,omitempty"`
	Var      string `json:"var,omitempty"`      // -env: the variable that held the token
	Exp      int64  `json:"exp,omitempty"`      // -env: the token's exp
	BaseURL  string `json:"base_url,omitempty"` // -env: the -base-url-env variable's value
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("e2eprobe", flag.ContinueOnError)
	listen := fs.String("upstream-addr", "127.0.0.1:8080", "address of the recording upstream")
	target := fs.String("target", "http://127.0.0.1:8181/v1/models", "URL to call (the sidecar's proxy)")
	interval := fs.Duration("interval", 250*time.Millisecond, "time between calls")
	every := fs.Duration("summary", 5*time.Second, "time between summary lines")
	count := fs.Int("count", 0, "stop after this many calls, exiting non-zero if any failed (0: run until SIGTERM)")
	envName := fs.String("env", "", "check mode: log the iss, jti and exp of the JWT in this environment variable (never the token) and exit with -exit; no calls")
	baseURLEnv := fs.String("base-url-env", "", "check mode: also log this variable's value (a base URL)")
	exit := fs.Int("exit", 0, "check mode: exit status once the token was found")
	waitFile := fs.String("wait-file", "", "before calling, wait until this file exists and is not empty (the sidecar's token file)")
	waitTimeout := fs.Duration("wait-timeout", 2*time.Minute, "how long -wait-file waits")
	doneFile := fs.String("done-file", "", "create this file when done, whatever the outcome (the sidecar's quit file)")
	header := fs.String("header", "", `extra request header "Name: value" (e.g. "Fedtoken-Request: true" for the sidecar's token endpoint)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var hdr http.Header
	if *header != "" {
		k, v, ok := strings.Cut(*header, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("-header %q: want \"Name: value\"", *header)
		}
		hdr = http.Header{}
		hdr.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if *envName != "" {
		return checkEnv(stdout, *envName, *baseURLEnv, *exit)
	}
	if *doneFile != "" {
		defer func() {
			f, cerr := os.OpenFile(*doneFile, os.O_CREATE|os.O_WRONLY, 0o644)
			if cerr == nil {
				cerr = f.Close()
			}
			if cerr != nil && err == nil {
				err = fmt.Errorf("-done-file: %w", cerr)
			}
		}()
	}
	if *waitFile != "" {
		if err := waitForFile(ctx, *waitFile, *waitTimeout); err != nil {
			return err
		}
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", upstream)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	enc := json.NewEncoder(stdout)
	emit := func(e event) { e.Time = time.Now().UTC().Format(time.RFC3339Nano); _ = enc.Encode(e) }
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	summary := time.NewTicker(*every)
	defer summary.Stop()
	var requests, failures int
	seen := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			emit(event{Event: "summary", Requests: requests, Failures: failures, Tokens: len(seen)})
			return nil
		case <-summary.C:
			emit(event{Event: "summary", Requests: requests, Failures: failures, Tokens: len(seen)})
		case <-tick.C:
			requests++
			tok, status, body, err := call(ctx, client, *target, hdr)
			if err != nil || status != http.StatusOK {
				if errors.Is(err, context.Canceled) {
					continue
				}
				failures++
				msg := ""
				if err != nil {
					msg = err.Error()
				}
				emit(event{Event: "failure", Status: status, Error: msg, Body: body})
				if *count > 0 && requests >= *count {
					emit(event{Event: "summary", Requests: requests, Failures: failures, Tokens: len(seen)})
					return fmt.Errorf("%d of %d calls failed", failures, requests)
				}
				continue
			}
			if !seen[tok.JTI] {
				seen[tok.JTI] = true
				emit(event{Event: "token", JTI: tok.JTI, IAT: tok.IAT, Issuer: tok.Issuer})
			}
			if *count > 0 && requests >= *count {
				emit(event{Event: "summary", Requests: requests, Failures: failures, Tokens: len(seen)})
				if failures > 0 {
					return fmt.Errorf("%d of %d calls failed", failures, requests)
				}
				return nil
			}
		}
	}
}

// seenToken is what the upstream reports about the bearer token it got.
type seenToken struct {
	JTI    string `json:"jti"`
	IAT    int64  `json:"iat"`
	Issuer string `json:"iss"`
}

// call GETs target; for an answer other than 200 it returns the start of
// the body (the sidecar's plain-text error), which never holds a token.
func call(ctx context.Context, client *http.Client, target string, hdr http.Header) (seenToken, int, string, error) {
	var tok seenToken
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return tok, 0, "", err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return tok, 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return tok, resp.StatusCode, strings.TrimSpace(string(b)), nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return tok, resp.StatusCode, "", fmt.Errorf("upstream answer: %w", err)
	}
	return tok, resp.StatusCode, "", nil
}

// upstream answers 200 with the jti and iat of the bearer JWT, 401 without
// one. (GET /healthz answers 200 without a token, for readiness probes.)
func upstream(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		http.Error(w, "want Authorization: Bearer <JWT>", http.StatusUnauthorized)
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		JTI    string  `json:"jti"`
		IAT    float64 `json:"iat"`
		Issuer string  `json:"iss"`
	}
	// Dex's access tokens carry no jti; at_hash identifies them instead.
	var dexID struct {
		AtHash string `json:"at_hash"`
	}
	if err == nil {
		_ = json.Unmarshal(payload, &dexID)
	}
	if err != nil || json.Unmarshal(payload, &c) != nil {
		http.Error(w, "bearer token is not a JWT", http.StatusUnauthorized)
		return
	}
	if c.JTI == "" {
		c.JTI = dexID.AtHash
	}
	if c.JTI == "" {
		http.Error(w, "bearer token is a JWT without jti or at_hash", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(seenToken{JTI: c.JTI, IAT: int64(c.IAT), Issuer: c.Issuer})
}

// checkEnv is the command `fedtoken exec` runs in the e2e suites: it proves
// the token reached its environment by logging the token's iss, jti (Dex:
// at_hash) and exp — never the token — then exits with status exit (0 when
// the variable is missing or not a JWT: exit 1 with the reason).
func checkEnv(stdout io.Writer, name, baseURLEnv string, exit int) error {
	tok := os.Getenv(name)
	if tok == "" {
		return fmt.Errorf("$%s is empty or unset", name)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("$%s is not a JWT (%d segments)", name, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		JTI    string  `json:"jti"`
		AtHash string  `json:"at_hash"`
		IAT    float64 `json:"iat"`
		Exp    float64 `json:"exp"`
		Issuer string  `json:"iss"`
	}
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return fmt.Errorf("$%s: JWT claims are not JSON", name)
	}
	if c.JTI == "" {
		c.JTI = c.AtHash
	}
	e := event{Time: time.Now().UTC().Format(time.RFC3339Nano), Event: "env", Var: name, Issuer: c.Issuer, JTI: c.JTI, IAT: int64(c.IAT), Exp: int64(c.Exp)}
	if baseURLEnv != "" {
		e.BaseURL = os.Getenv(baseURLEnv)
	}
	if err := json.NewEncoder(stdout).Encode(e); err != nil {
		return err
	}
	if exit != 0 {
		return exitCode(exit)
	}
	return nil
}

// waitForFile polls until path exists and is not empty, for at most
// timeout, and says what it waited for when it gives up.
func waitForFile(ctx context.Context, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := os.Stat(path)
		if err == nil && st.Size() > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to exist and not be empty: gave up after %s (last: %v)", path, timeout, err)
		case <-tick.C:
		}
	}
}
