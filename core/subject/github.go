package subject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables a GitHub Actions runner sets for a job that has
// `permissions: id-token: write`.
const (
	GitHubRequestURLEnv   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	GitHubRequestTokenEnv = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// maxResponseSize bounds the token endpoint's response.
const maxResponseSize = 4 * MaxTokenSize

// defaultHTTPTimeout bounds the request when GitHubActions.HTTPClient is nil.
const defaultHTTPTimeout = 30 * time.Second

// GitHubActions requests a GitHub Actions OIDC token from the runner's
// token endpoint: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<Audience>
// with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
//
// It does not cache: every call mints a new token (they live minutes).
type GitHubActions struct {
	// Audience is the "aud" to request, usually the IdP's issuer or
	// client ID; empty leaves GitHub's default (https://github.com/<owner>).
	Audience string
	// HTTPClient sends the request; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Getenv looks up the runner's variables; nil means os.Getenv.
	Getenv func(string) string
	// Now is the clock of the expiry check; nil means time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew: the token counts as expired once
	// Now() is past exp + Leeway. Zero means none.
	Leeway time.Duration
}

// SubjectToken requests a fresh token.
func (s GitHubActions) SubjectToken(ctx context.Context) (string, error) {
	return subjectToken(ctx, s)
}

// String returns "github_actions audience=<aud>".
func (s GitHubActions) String() string {
	if s.Audience == "" {
		return TypeGitHubActions + " (default audience)"
	}
	return TypeGitHubActions + " audience=" + s.Audience
}

func (s GitHubActions) expiry() expiryCheck {
	path := GitHubRequestURLEnv
	if u, err := s.requestURL(); err == nil {
		path = redactURL(u)
	}
	return expiryCheck{source: TypeGitHubActions, path: path, now: s.Now, leeway: s.Leeway}
}

func (s GitHubActions) getenv(name string) string {
	if s.Getenv == nil {
		return os.Getenv(name)
	}
	return s.Getenv(name)
}

// requestURL appends audience to the runner's URL, which normally has a
// query string already (?api-version=…).
func (s GitHubActions) requestURL() (*url.URL, error) {
	raw := s.getenv(GitHubRequestURLEnv)
	if raw == "" {
		return nil, sourceError(s, "%s is not set: %w: the job needs `permissions: id-token: write` (and must run on GitHub Actions)", GitHubRequestURLEnv, ErrNoToken)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, sourceError(s, "%s is not an http(s) URL", GitHubRequestURLEnv)
	}
	if s.Audience != "" {
		aud := "audience=" + url.QueryEscape(s.Audience)
		if u.RawQuery == "" {
			u.RawQuery = aud
		} else {
			u.RawQuery += "&" + aud
		}
	}
	return u, nil
}

func (s GitHubActions) read(ctx context.Context) (string, error) {
	u, err := s.requestURL()
	if err != nil {
		return "", err
	}
	bearer := s.getenv(GitHubRequestTokenEnv)
	if bearer == "" {
		return "", sourceError(s, "%s is not set: %w: the job needs `permissions: id-token: write`", GitHubRequestTokenEnv, ErrNoToken)
	}
	endpoint := redactURL(u)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", sourceError(s, "token request to %s: %w", endpoint, unwrapURL(err))
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")

	client := s.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultHTTPTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", sourceError(s, "token request to %s: %w", endpoint, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return "", sourceError(s, "reading the response of %s: %w", endpoint, unwrapURL(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", sourceError(s, "token request to %s returned HTTP %d%s%s", endpoint, resp.StatusCode,
			describeBody(resp.Header.Get("Content-Type"), body, bearer), statusHint(resp.StatusCode))
	}
	if len(body) > maxResponseSize {
		return "", sourceError(s, "the response of %s is larger than %d KiB", endpoint, maxResponseSize>>10)
	}
	var out struct {
		Value *json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", sourceError(s, "the response of %s is not a JSON object%s", endpoint, describeBody(resp.Header.Get("Content-Type"), nil, ""))
	}
	if out.Value == nil {
		return "", sourceError(s, "the response of %s has no \"value\": %w", endpoint, ErrNoToken)
	}
	var tok string
	if err := json.Unmarshal(*out.Value, &tok); err != nil {
		return "", sourceError(s, "the response of %s has a \"value\" that is not a string", endpoint)
	}
	return cleanToken(s, tok, "the response's \"value\" is empty")
}

// statusHint says what to check for a refused token request.
func statusHint(code int) string {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return "; the request token is refused: it is valid only while the job runs, and the job needs `permissions: id-token: write`"
	case code == http.StatusNotFound:
		return "; check " + GitHubRequestURLEnv
	case code == http.StatusTooManyRequests || code >= 500:
		return "; the runner's token service is unavailable, try again"
	default:
		return ""
	}
}

// describeBody summarises a response body without dumping it: the JSON
// "message" GitHub sends, shortened and scrubbed, or the content type and
// size.
func describeBody(contentType string, body []byte, secret string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return ": " + summarise([]byte(e.Message), secret)
		}
	}
	if mt == "" {
		mt = "no content type"
	}
	if body == nil {
		return " (" + mt + ")"
	}
	return fmt.Sprintf(" (%d-byte %s body)", len(body), mt)
}

// redactURL drops userinfo, query and fragment.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.ForceQuery = "", false
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// unwrapURL drops the *url.Error wrapper, whose message quotes the full
// URL with its query; the cause underneath is kept for errors.Is.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
