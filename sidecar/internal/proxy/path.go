package proxy

import "net/url"

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
	// Segments are split at '/' and '\\' (both are separators to some
	// servers), without allocating: this runs on every request.
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' && p[i] != '\\' {
			continue
		}
		if seg := p[start:i]; seg == "." || seg == ".." {
			return `the request path has a "." or ".." segment; send the path the upstream should see`
		}
		start = i + 1
	}
	return ""
}
