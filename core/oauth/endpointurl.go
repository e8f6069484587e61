package oauth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// RedactURL returns u without userinfo, query and fragment, for errors and
// logs: query strings can carry codes and tokens, userinfo a password.
// Text that does not parse as a URL is replaced by a placeholder.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	p.User = nil
	p.RawQuery = ""
	p.ForceQuery = false
	p.Fragment = ""
	p.RawFragment = ""
	return p.String()
}

// CheckEndpointURL checks that u is an absolute URL an IdP may be reached
// at: https, or plain http only for a loopback host (localhost,
// 127.0.0.0/8, ::1) or when allowInsecureHTTP is set. The error names the
// URL (redacted) and the allowInsecureHTTP setting.
func CheckEndpointURL(u string, allowInsecureHTTP bool) error {
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() || p.Host == "" {
		return fmt.Errorf("oauth: endpoint %q is not an absolute http(s) URL", RedactURL(u))
	}
	switch strings.ToLower(p.Scheme) {
	case "https":
		return nil
	case "http":
		if allowInsecureHTTP || IsLoopbackHost(p.Hostname()) {
			return nil
		}
		return fmt.Errorf("oauth: endpoint %q uses plain http: use https, or set allowInsecureHTTP: true for this provider if you accept sending credentials unencrypted", RedactURL(u))
	}
	return fmt.Errorf("oauth: endpoint %q has scheme %q: use https", RedactURL(u), p.Scheme)
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP, the
// hosts plain http is accepted for. "*.localhost" names are not: the
// system resolver may send them to DNS, which can answer any address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
