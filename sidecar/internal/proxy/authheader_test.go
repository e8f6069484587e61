package proxy

import (
	"context"
	"io"
	"net/http"
	"testing"

	"golang.org/x/oauth2"
)

// typedSource hands out one token with the token_type the IdP gave.
type typedSource struct{ typ string }

func (s typedSource) TokenContext(context.Context) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "at", TokenType: s.typ}, nil
}

func (typedSource) Invalidate(*oauth2.Token) {}

// TestProxyAuthorizationScheme: the proxy builds the header as core does.
// An RFC 8693 token_type of N_A ("not applicable", e.g. an exchanged ID
// token) is sent as Bearer, never as "Authorization: N_A <token>".
func TestProxyAuthorizationScheme(t *testing.T) {
	for _, tc := range []struct{ typ, want string }{
		{"N_A", "Bearer at"},
		{"bearer", "Bearer at"}, // Dex answers lowercase
		{"", "Bearer at"},
		{"Bearer", "Bearer at"},
		{"DPoP", "DPoP at"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			var s seen
			proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.record(r)
			}), typedSource{tc.typ})
			resp, err := http.Get(proxyURL + "/v1/models")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got := s.all()
			if len(got) != 1 {
				t.Fatalf("upstream saw %d requests, want 1", len(got))
			}
			if got[0].Auth != tc.want {
				t.Errorf("token_type %q: upstream saw Authorization %q, want %q", tc.typ, got[0].Auth, tc.want)
			}
		})
	}
}
