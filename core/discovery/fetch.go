package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// notHere means a candidate URL answered but holds no metadata; the next
// one is tried. Its text says why (status, body kind).
type notHere string

func (e notHere) Error() string { return string(e) }

// fetch tries the candidate URLs in order. A document whose issuer differs
// stops the search: the issuer is misconfigured, not the path.
func (c *Client) fetch(ctx context.Context, issuer string) (*Metadata, error) {
	urls, err := candidateURLs(issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	hc := c.httpClient()
	var tried []string
	for _, u := range urls {
		md, err := get(ctx, hc, u)
		switch {
		case err == nil && md.Issuer != issuer:
			return nil, fmt.Errorf("discovery: issuer mismatch: configured %q, but %s says %q; set the issuer to exactly the value the IdP publishes (scheme, host, path, trailing slash)",
				issuer, oauth.RedactURL(u), md.Issuer)
		case err == nil:
			md.URL = u
			return md, nil
		case errors.As(err, new(notHere)):
			tried = append(tried, fmt.Sprintf("GET %s: %v", oauth.RedactURL(u), err))
		default: // the server is unreachable: the other URLs would fail alike
			// %w keeps the network error (connection refused, TLS, timeout)
			// reachable for callers that classify failures.
			return nil, fmt.Errorf("discovery: issuer %s: %s: %w", oauth.RedactURL(issuer),
				strings.Join(append(tried, "GET "+oauth.RedactURL(u)), "; "), err)
		}
	}
	return nil, fmt.Errorf("discovery: no metadata for issuer %s: %s", oauth.RedactURL(issuer), strings.Join(tried, "; "))
}

// get fetches one metadata document. It returns a notHere error when the URL
// answers but holds no metadata (a non-200 status, a non-JSON body, a
// document without issuer).
func get(ctx context.Context, hc *http.Client, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("cannot build the request")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, oauth.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, notHere(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	if len(body) > oauth.MaxResponseBytes {
		return nil, notHere(fmt.Sprintf("HTTP 200 with a body over %d bytes", oauth.MaxResponseBytes))
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, notHere(fmt.Sprintf("HTTP 200 but not a JSON metadata document (%s, %d bytes)", mediaType(resp), len(body)))
	}
	if md.Issuer == "" {
		return nil, notHere(`HTTP 200 but the document has no "issuer"`)
	}
	return &md, nil
}

func mediaType(resp *http.Response) string {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt == "" {
		return "no content type"
	}
	if len(mt) > 64 {
		mt = mt[:64]
	}
	return mt
}
