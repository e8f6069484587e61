package oauth

import (
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/fedtoken/fedtoken/core/redact"
)

// maxPreview is how much of a resource server's error body an *Error
// quotes (the plugin's preview length).
const maxPreview = 500

// ResourceError describes the failed answer resp of a resource server (an
// API called with an access token, such as a gateway's /v1/models) as an
// *Error: Code is the RFC 6750 §3 error of the WWW-Authenticate header
// (invalid_token, insufficient_scope…) or the body's "error" string;
// Description is a preview of the body, at most 500 characters, with the
// request's credentials and anything that looks like a token or secret
// replaced by [REDACTED]. It reads at most a few KiB of the body and does
// not close it.
func ResourceError(req *http.Request, resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4*maxPreview))
	s := newScrubber(nil, req.Header)
	text := redact.Text(s.replace(string(body)))
	e := &Error{
		StatusCode:  resp.StatusCode,
		Endpoint:    RedactURL(req.URL.String()),
		Description: cleanText(text, maxPreview),
	}
	if c := bearerErrorCode(resp.Header.Get("WWW-Authenticate")); c != "" {
		e.Code = c
	} else if fields, ok := decodeObject(body); ok {
		if c, isStr := fields["error"].(string); isStr {
			e.Code = cleanText(redact.Text(s.replace(c)), 64)
		}
	}
	if e.Description == "" {
		e.Description = "empty body"
	}
	return e
}

var bearerError = regexp.MustCompile(`(?i)\berror="?([a-z_]+)"?`)

// bearerErrorCode reads error="…" of a Bearer challenge (RFC 6750 §3).
func bearerErrorCode(h string) string {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), "bearer") {
		return ""
	}
	if m := bearerError.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}
