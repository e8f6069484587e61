package oauth

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://idp.example/token", "https://idp.example/token"},
		{"https://user:pw@idp.example/realms/x/token?code=abc&state=s#frag", "https://idp.example/realms/x/token"},
		{"http://127.0.0.1:8080/path?", "http://127.0.0.1:8080/path"},
		{"/relative?x=1", "/relative"},
		{"https://idp.example/%zz?secret=1", "(unparseable URL)"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckEndpointURL(t *testing.T) {
	tests := []struct {
		url     string
		allow   bool
		wantErr string
	}{
		{url: "https://idp.example/token"},
		{url: "HTTPS://idp.example/token"},
		{url: "http://127.0.0.1:5556/dex"},
		{url: "http://127.9.8.7/x"},
		{url: "http://[::1]:8080/x"},
		{url: "http://localhost:8080/realms/e2e"},
		{url: "http://idp.internal/token", allow: true},
		{url: "http://idp.internal/token?x=secret", wantErr: `endpoint "http://idp.internal/token" uses plain http: use https, or set allowInsecureHTTP: true`},
		{url: "http://localhost.evil.example/x", wantErr: "uses plain http"},
		{url: "http://10.0.0.1/x", wantErr: "uses plain http"},
		{url: "ftp://idp.example/x", allow: true, wantErr: `has scheme "ftp": use https`},
		{url: "idp.example/token", wantErr: "is not an absolute http(s) URL"},
		{url: "", wantErr: "is not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		err := CheckEndpointURL(tt.url, tt.allow)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckEndpointURL(%q, %v) = %v, want nil", tt.url, tt.allow, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckEndpointURL(%q, %v) = %v, want %q", tt.url, tt.allow, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows the query", err)
		}
	}
}
