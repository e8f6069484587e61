package oauth

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A resource server's error: the RFC 6750 code, a preview of the body,
// and no credential, whether echoed verbatim, by name or as a JWT.
func TestResourceError(t *testing.T) {
	const bearer = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	req := &http.Request{URL: &url.URL{Scheme: "https", Host: "gw.example.com", Path: "/v1/models", RawQuery: "key=querysecret"},
		Header: http.Header{"Authorization": {"Bearer " + bearer}}}
	body := `{"error":"denied","detail":"token ` + bearer + ` refused", "refresh_token": "rt-abcdef123456", "other":"eyJxxxxxxxxx.eyJyyyyyyyyyy.zzzzzzzzzzzz", "hdr":"Bearer abcdefghijkl", "pad":"` + strings.Repeat("x", 600) + `"}`
	for _, c := range []struct {
		www, code string
	}{
		{`Bearer realm="gw", error="invalid_token", error_description="expired"`, "invalid_token"},
		{`Basic realm="gw"`, "denied"},
		{"", "denied"},
	} {
		resp := &http.Response{StatusCode: 401, Header: http.Header{"Www-Authenticate": {c.www}}, Body: io.NopCloser(strings.NewReader(body))}
		e := ResourceError(req, resp)
		if e.Code != c.code || e.StatusCode != 401 || e.Endpoint != "https://gw.example.com/v1/models" {
			t.Errorf("%q: %+v", c.www, e)
		}
		for _, leak := range []string{bearer, "rt-abcdef123456", "eyJxxxxxxxxx", "abcdefghijkl", "querysecret"} {
			if strings.Contains(e.Error(), leak) {
				t.Errorf("%q: error leaks %q: %v", c.www, leak, e)
			}
		}
		if !strings.Contains(e.Description, "refused") || len([]rune(e.Description)) > maxPreview+1 {
			t.Errorf("%q: description %q", c.www, e.Description)
		}
	}
	empty := ResourceError(req, &http.Response{StatusCode: 502, Header: http.Header{}, Body: http.NoBody})
	if empty.Description != "empty body" || empty.Code != "" {
		t.Errorf("empty body: %+v", empty)
	}
}
