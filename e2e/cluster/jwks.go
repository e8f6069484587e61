//go:build e2e

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// FetchJWKSAnonymously GETs the issuer's JWKS (its discovery document's
// jwks_uri) without credentials, trusting only caFile, and returns the raw
// JSON. The API server serves it only as application/jwk-set+json: a
// client whose Accept header names only application/json gets 406.
func FetchJWKSAnonymously(ctx context.Context, issuer, caFile string) ([]byte, error) {
	d, err := FetchDiscoveryAnonymously(ctx, issuer, caFile)
	if err != nil {
		return nil, err
	}
	client, err := HTTPClientTrusting(caFile)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.JWKSURI, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", d.JWKSURI, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks %s: anonymous GET: HTTP %d: %.200s", d.JWKSURI, resp.StatusCode, body)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
		return nil, fmt.Errorf("jwks %s: not a JWKS with keys (%v): %.200s", d.JWKSURI, err, body)
	}
	return body, nil
}
