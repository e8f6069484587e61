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
		fmt.Fprintln(os.Stderr, "e2eprobe:", err)
		os.Exit(1)
	}
}

// event is one log line.
type event struct {
	Time     string `json:"time"`
	Event    string `json:"event"` // token, failure, summary
	JTI      string `json:"jti,omitempty"`
	IAT      int64  `json:"iat,omitempty"`
	Issuer   string `json:"iss,omitempty"`
	Status   int    `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
	Requests int    `json:"requests,omitempty"`
	Failures int    `json:"failures"`
	Tokens   int    `json:"tokens,omitempty"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("e2eprobe", flag.ContinueOnError)
	listen := fs.String("upstream-addr", "127.0.0.1:8080", "address of the recording upstream")
	target := fs.String("target", "http://127.0.0.1:8181/v1/models", "URL to call (the sidecar's proxy)")
	interval := fs.Duration("interval", 250*time.Millisecond, "time between calls")
	every := fs.Duration("summary", 5*time.Second, "time between summary lines")
	count := fs.Int("count", 0, "stop after this many calls, exiting non-zero if any failed (0: run until SIGTERM)")
	if err := fs.Parse(args); err != nil {
		return err
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
			tok, status, err := call(ctx, client, *target)
			if err != nil || status != http.StatusOK {
				if errors.Is(err, context.Canceled) {
					continue
				}
				failures++
				msg := ""
				if err != nil {
					msg = err.Error()
				}
				emit(event{Event: "failure", Status: status, Error: msg})
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

func call(ctx context.Context, client *http.Client, target string) (seenToken, int, error) {
	var tok seenToken
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return tok, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return tok, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
			return tok, resp.StatusCode, fmt.Errorf("upstream answer: %w", err)
		}
	}
	return tok, resp.StatusCode, nil
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
