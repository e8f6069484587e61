package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Client posts forms to IdP endpoints: it authenticates the client,
// retries transient failures (network errors, HTTP 429 and 5xx) with
// capped, jittered exponential backoff bounded by the caller's context,
// limits response sizes, and turns error responses into *Error.
//
// The zero value is ready to use; a nil *Client behaves like the zero
// value. Redirects are not followed: a token request must not carry
// credentials to another URL.
type Client struct {
	// HTTPClient sends the requests; nil means a client with
	// DefaultHTTPTimeout over http.DefaultTransport (see NewHTTPClient).
	HTTPClient *http.Client
	// Retry is the retry policy; the zero value is the default policy.
	Retry RetryPolicy
	// Now is the clock for token expiry, assertion times and Retry-After
	// dates; nil means time.Now.
	Now func() time.Time
}

// Token posts form to the token endpoint with auth's client credentials
// and returns the parsed token (see parseTokenResponse).
//
// The federated assertion (auth.Assertion) is read once per call and
// reused by its retries; a private_key_jwt assertion is signed afresh for
// every attempt. An OAuth error comes back as an *Error naming the
// endpoint; no error contains a credential from the request.
func (c *Client) Token(ctx context.Context, tokenURL string, form url.Values, auth ClientAuth) (*oauth2.Token, error) {
	return post(ctx, c, tokenURL, form, auth, parseToken)
}

// PostForm posts form to endpointURL (e.g. a device-authorization
// endpoint) with the same authentication, retries and error handling as
// Token, and returns the body of a 2xx response, which must be a JSON
// object without an "error" field.
func (c *Client) PostForm(ctx context.Context, endpointURL string, form url.Values, auth ClientAuth) ([]byte, error) {
	return post(ctx, c, endpointURL, form, auth, parseJSONObject)
}

// parseJSONObject accepts a 2xx body that is a JSON object without "error".
func parseJSONObject(status int, contentType string, body []byte, _ time.Time, redact redactor) ([]byte, error) {
	fields, ok := decodeObject(body)
	if !ok {
		return nil, fmt.Errorf("response is not a JSON object (HTTP %d, %s)", status, summariseBody(contentType, body, redact))
	}
	if e := errorFromFields(status, fields, redact); e != nil {
		return nil, e
	}
	return body, nil
}

// post runs the attempts of one request until success, a permanent
// error, the attempt limit or the end of ctx.
func post[T any](ctx context.Context, c *Client, endpoint string, form url.Values, auth ClientAuth, parse parseFunc[T]) (T, error) {
	var zero T
	if c == nil {
		c = &Client{}
	}
	where := RedactURL(endpoint)
	if u, err := url.Parse(endpoint); err != nil || !u.IsAbs() || u.Host == "" {
		return zero, fmt.Errorf("oauth: endpoint %q is not an absolute URL", where)
	}
	prep, err := auth.prepare(ctx)
	if err != nil {
		return zero, err
	}
	policy := c.Retry.withDefaults()
	hc := c.httpClient()

	for attempt := 1; ; attempt++ {
		v, out := doAttempt(ctx, c, hc, endpoint, form, prep, parse)
		if out.err == nil {
			return v, nil
		}
		err := out.err
		if !out.retryable || attempt >= policy.MaxAttempts {
			return zero, finalError(where, attempt, err)
		}
		if out.hasRetryAfter && out.retryAfter > policy.MaxRetryAfter {
			// The IdP asked for longer than one request may wait: give up
			// now; the *Error carries RetryAfter for the token cache.
			return zero, fmt.Errorf("oauth: POST %s: not retrying: the IdP asked to wait %s (Retry-After): %w",
				where, out.retryAfter, err)
		}
		wait := policy.wait(attempt, out.retryAfter, out.hasRetryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return zero, fmt.Errorf("oauth: POST %s: not retrying after %d attempts (the next one, in %s, would pass the deadline): %w",
				where, attempt, wait.Round(time.Millisecond), err)
		}
		if serr := policy.Sleep(ctx, wait); serr != nil {
			return zero, fmt.Errorf("oauth: POST %s: %w after %d attempts; last error: %w", where, serr, attempt, err)
		}
	}
}

// finalError wraps the error of the last attempt.
func finalError(where string, attempts int, err error) error {
	var oe *Error
	switch {
	case attempts > 1:
		return fmt.Errorf("oauth: POST %s: gave up after %d attempts: %w", where, attempts, err)
	case errors.As(err, &oe):
		return err // already names the endpoint and status
	default:
		return fmt.Errorf("oauth: POST %s: %w", where, err)
	}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// httpClient returns a copy of the configured client that does not follow
// redirects.
func (c *Client) httpClient() *http.Client {
	hc := http.Client{Timeout: DefaultHTTPTimeout}
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}
