package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// DefaultTimeout bounds one listing (the plugin's httpTimeoutMs default).
const DefaultTimeout = 15 * time.Second

// maxListBody bounds the size of a model list read from a gateway.
const maxListBody = 8 << 20

// Model is one model a gateway serves.
type Model struct {
	// ID is the model id, as sent in requests ("glm-5").
	ID string `json:"id"`
	// Name is the display name: nameOverrides[ID], else the normalised ID.
	Name string `json:"name"`
	// OwnedBy is the gateway's owned_by, when it says.
	OwnedBy string `json:"owned_by,omitempty"`
}

// listURL is the model listing URL of baseURL: <baseURL>/models when its path
// ends in /v1, else <baseURL>/v1/models (the plugin's rule).
func listURL(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("models: baseURL %q is not an absolute http(s) URL", oauth.RedactURL(baseURL))
	}
	p := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(p, "/v1") {
		u.Path = p + "/models"
	} else {
		u.Path = p + "/v1/models"
	}
	u.RawPath = ""
	return u.String(), nil
}

// Lister fetches model lists.
type Lister struct {
	// Source supplies the access token. Required.
	Source oauth.TokenSource
	// Client sends the request (its Transport is used, the token added);
	// nil means a client with the system roots.
	Client *http.Client
	// Timeout bounds a listing, token acquisition included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// List returns the models of the gateway at baseURL, named with
// overrides. An answer other than 2xx is an *oauth.Error (the status, the
// URL without query or credentials, a preview of the body scrubbed of
// secrets); a token failure is returned as the token source gave it.
func (l *Lister) List(ctx context.Context, baseURL string, overrides map[string]string) ([]Model, error) {
	raw, err := listURL(baseURL)
	if err != nil {
		return nil, err
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var base http.RoundTripper
	if l.Client != nil {
		base = l.Client.Transport
	}
	client := &http.Client{
		Transport: &oauth.Transport{Source: l.Source, Base: base},
		// The token goes to the gateway only: a redirect elsewhere would
		// carry it along.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
				return fmt.Errorf("redirected to %s: the token is sent only to %s", oauth.RedactURL(req.URL.String()), via[0].URL.Host)
			}
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL with its query
		}
		return nil, fmt.Errorf("models: GET %s: %w", oauth.RedactURL(raw), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// resp.Request is the request as sent, Authorization included:
		// ResourceError scrubs that token (and anything token-like) from
		// the body preview.
		return nil, fmt.Errorf("models: list: %w", oauth.ResourceError(resp.Request, resp))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody+1))
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", oauth.RedactURL(raw), err)
	}
	if len(body) > maxListBody {
		return nil, fmt.Errorf("models: %s: list larger than %d bytes", oauth.RedactURL(raw), maxListBody)
	}
	list, err := parseList(body)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", oauth.RedactURL(raw), err)
	}
	for i := range list {
		list[i].Name = DisplayName(list[i].ID, overrides)
	}
	return list, nil
}

// parseList reads {"data": [{"id": …}, …]} or a bare array, skipping
// entries without a string id (as the plugin does).
func parseList(body []byte) ([]Model, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("answer is not JSON (%d bytes): expected {\"data\": [{\"id\": …}]}", len(body))
	}
	var items []any
	switch t := v.(type) {
	case []any:
		items = t
	case map[string]any:
		items, _ = t["data"].([]any)
	}
	out := []Model{}
	seen := map[string]bool{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["id"].(string)
		if id == "" || seen[id] || strings.IndexFunc(id, unicode.IsControl) >= 0 {
			continue
		}
		seen[id] = true
		owner, _ := m["owned_by"].(string)
		out = append(out, Model{ID: id, OwnedBy: owner})
	}
	return out, nil
}
