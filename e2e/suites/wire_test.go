//go:build e2e

package suites

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/internal/issued"
)

// Raw OAuth wire helpers: the harness proves itself with these before any
// fedtoken code is involved.

type tokenResponse struct {
	Status int
	Body   map[string]any
}

func (r tokenResponse) str(k string) string { s, _ := r.Body[k].(string); return s }

// postToken POSTs form to tokenURL, with HTTP Basic when clientID is set.
func postToken(t *testing.T, ctx context.Context, tokenURL string, form url.Values, clientID, secret string) tokenResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", tokenURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	out := tokenResponse{Status: resp.StatusCode, Body: map[string]any{}}
	if err := json.Unmarshal(data, &out.Body); err != nil {
		t.Fatalf("POST %s: HTTP %d, body is not JSON: %.200s", tokenURL, resp.StatusCode, data)
	}
	issued.RecordTokenResponse(out.Body)
	return out
}

// claims decodes a JWT's payload without verifying it (the IdP did).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d segments", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return c
}

// audiences returns "aud" as a list whether it is a string or an array.
func audiences(c map[string]any) []string {
	switch a := c["aud"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, v := range a {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// errorBody summarises an error response without any token in it.
func errorBody(r tokenResponse) string {
	return "HTTP " + http.StatusText(r.Status) + " error=" + r.str("error") + " description=" + r.str("error_description")
}
