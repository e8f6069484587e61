package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// outcome is the result of one attempt that did not succeed.
type outcome struct {
	err           error
	retryable     bool
	retryAfter    time.Duration
	hasRetryAfter bool
}

// parseFunc turns a 2xx response into a result.
type parseFunc[T any] func(status int, contentType string, body []byte, now time.Time, redact redactor) (T, error)

// doAttempt sends the request once and classifies the result. An *Error
// comes back naming the endpoint, with every credential of this attempt
// (including a freshly signed assertion) scrubbed from its text.
func doAttempt[T any](ctx context.Context, c *Client, hc *http.Client, endpoint string, form url.Values,
	prep preparedAuth, parse parseFunc[T]) (T, outcome) {
	var zero T
	now := c.now()
	f := make(url.Values, len(form)+4)
	for k, v := range form {
		f[k] = append([]string(nil), v...)
	}
	header := make(http.Header)
	if err := prep.apply(f, header, endpoint, now); err != nil {
		return zero, outcome{err: err}
	}
	scrub := newScrubber(f, header)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(f.Encode()))
	if err != nil {
		return zero, outcome{err: errors.New("cannot build the request")}
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	v, out := exchange(ctx, hc, req, now, scrub.replace, parse)
	out.err = scrub.clean(out.err, RedactURL(endpoint))
	return v, out
}

// exchange sends req and reads, limits and parses the response.
func exchange[T any](ctx context.Context, hc *http.Client, req *http.Request, now time.Time, redact redactor,
	parse parseFunc[T]) (T, outcome) {
	var zero T
	resp, err := hc.Do(req)
	if err != nil {
		return zero, transportOutcome(ctx, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	resp.Body.Close()
	if err != nil {
		return zero, transportOutcome(ctx, fmt.Errorf("read response: %w", err))
	}
	status, ctype := resp.StatusCode, resp.Header.Get("Content-Type")
	if len(body) > MaxResponseBytes {
		return zero, outcome{err: fmt.Errorf("response body exceeds %d bytes (HTTP %d)", MaxResponseBytes, status)}
	}
	ra, hasRA := parseRetryAfter(resp.Header, now)
	switch {
	case status >= 300 && status < 400:
		return zero, outcome{err: fmt.Errorf("unexpected redirect (HTTP %d to %s): set the endpoint to the final URL",
			status, RedactURL(resp.Header.Get("Location")))}
	case status < 200 || status > 299:
		e := parseErrorResponse(status, ctype, body, redact)
		if hasRA {
			e.RetryAfter = ra
		}
		return zero, outcome{err: e, retryable: e.Retryable(), retryAfter: ra, hasRetryAfter: hasRA}
	}
	v, err := parse(status, ctype, body, now, redact)
	if err != nil {
		var oe *Error
		retry := errors.As(err, &oe) && oe.Retryable()
		return zero, outcome{err: err, retryable: retry, retryAfter: ra, hasRetryAfter: hasRA}
	}
	return v, outcome{}
}

// transportOutcome classifies an error from sending or reading: the
// caller's context ending is final, an untrusted certificate is final,
// anything else (refused, reset, timeout) is worth a retry.
func transportOutcome(ctx context.Context, err error) outcome {
	if ctx.Err() != nil {
		return outcome{err: ctx.Err()}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the full URL; the caller names it redacted
	}
	if f := ClassifyTLS(err); f.Certificate() {
		return outcome{err: fmt.Errorf("%w (%s)", err, f.Fix())}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("the connection was closed before a complete response: %w", err)
	}
	return outcome{err: err, retryable: true}
}
