package proxy

import (
	"net/url"
	"strings"
)

// dotSegments returns why u's path must be refused, or "": a "." or ".."
// segment, literal or percent-encoded (%2e), with "/", "\\" or an encoded
// slash (%2f) as separator. Forwarded as is, "/v1/../admin" reaches
// "/admin" on the upstream, outside the base path the proxy was given;
// cleaning it instead would change what the client asked for.
func dotSegments(u *url.URL) string {
	raw := u.EscapedPath()
	p, err := url.PathUnescape(raw)
	if err != nil {
		return "the request path has an invalid percent-encoding"
	}
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return `the request path has a "." or ".." segment; send the path the upstream should see`
		}
	}
	return ""
}
