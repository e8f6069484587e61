package oauth

import (
	"bytes"
	"fmt"
	"html"
	"mime"
	"strings"
	"unicode"
)

// Limits on IdP-supplied text copied into an *Error.
const (
	maxDescription = 512
	maxTitle       = 100
	titleScanBytes = 64 << 10
)

// redactor removes credentials from IdP-supplied text; nil leaves it as is.
type redactor func(string) string

func (r redactor) apply(s string) string {
	if r == nil {
		return s
	}
	return r(s)
}

// parseErrorResponse builds the *Error for a response that is not a token:
// the RFC 6749 §5.2 fields of a JSON error body, or a summary of anything
// else. It never copies a non-JSON body.
func parseErrorResponse(status int, contentType string, body []byte, redact redactor) *Error {
	if fields, ok := decodeObject(body); ok {
		if e := errorFromFields(status, fields, redact); e != nil {
			return e
		}
		return &Error{
			StatusCode:  status,
			Description: fmt.Sprintf(`JSON body without an "error" field (%d bytes)`, len(body)),
		}
	}
	return &Error{StatusCode: status, Description: "non-JSON " + summariseBody(contentType, body, redact)}
}

// errorFromFields returns the *Error described by a JSON body's "error",
// "error_description" and "error_uri", or nil when "error" is absent.
// The text is redacted before it is cleaned and shortened, so a cut can
// never leave part of a credential behind.
func errorFromFields(status int, fields map[string]any, redact redactor) *Error {
	code, _ := fields["error"].(string)
	if code == "" {
		return nil
	}
	desc, _ := fields["error_description"].(string)
	uri, _ := fields["error_uri"].(string)
	return &Error{
		Code:        cleanText(redact.apply(code), 64),
		Description: cleanText(redact.apply(desc), maxDescription),
		URI:         cleanText(redact.apply(uri), 256),
		StatusCode:  status,
	}
}

// summariseBody describes a body without quoting it: the media type, the
// size and, for HTML, the page title (error pages name the failure there).
func summariseBody(contentType string, body []byte, redact redactor) string {
	media := "no content type"
	if contentType != "" {
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			media = cleanText(mt, 64)
		} else {
			media = "unparseable content type"
		}
	}
	if len(body) == 0 {
		return media + " empty body"
	}
	s := fmt.Sprintf("%s body (%d bytes", media, len(body))
	if media == "text/html" || media == "application/xhtml+xml" || media == "no content type" {
		if title := htmlTitle(body, redact); title != "" {
			s += fmt.Sprintf(", title %q", title)
		}
	}
	return s + ")"
}

// htmlTitle returns the cleaned text of the first <title> element, if any.
func htmlTitle(body []byte, redact redactor) string {
	if len(body) > titleScanBytes {
		body = body[:titleScanBytes]
	}
	lower := bytes.ToLower(body)
	start := bytes.Index(lower, []byte("<title"))
	if start < 0 {
		return ""
	}
	open := bytes.IndexByte(lower[start:], '>')
	if open < 0 {
		return ""
	}
	textStart := start + open + 1
	end := bytes.Index(lower[textStart:], []byte("</title"))
	if end < 0 {
		return ""
	}
	return cleanText(redact.apply(html.UnescapeString(string(body[textStart:textStart+end]))), maxTitle)
}

// cleanText collapses whitespace, drops control and invalid characters and
// cuts s to at most max runes, so IdP text cannot forge log lines.
func cleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == unicode.ReplacementChar:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case !unicode.IsPrint(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
