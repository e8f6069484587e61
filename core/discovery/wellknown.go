package discovery

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Well-known path suffixes.
const (
	openIDConfiguration = "/.well-known/openid-configuration"
	oauthServerMetadata = "/.well-known/oauth-authorization-server"
)

// candidateURLs returns the metadata URLs to try for issuer, in order:
//
//  1. OpenID Connect: the well-known path appended to the issuer
//     (https://h/realms/x/.well-known/openid-configuration);
//  2. RFC 8414 §3: the well-known path inserted between host and issuer
//     path (https://h/.well-known/oauth-authorization-server/realms/x);
//  3. for an issuer with a path, the RFC 8414 suffix appended, as some
//     servers (Keycloak among them) publish it.
func candidateURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("issuer %q is not an absolute http(s) URL", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("issuer %q must not have userinfo, a query or a fragment", oauth.RedactURL(issuer))
	}
	base := strings.TrimSuffix(issuer, "/")
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	origin := u.Scheme + "://" + u.Host

	urls := []string{base + openIDConfiguration, origin + oauthServerMetadata + path}
	if path != "" {
		urls = append(urls, base+oauthServerMetadata)
	}
	return urls, nil
}
