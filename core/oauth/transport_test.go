package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

func TestTransport(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	for _, tc := range []struct{ typ, want string }{
		{"bearer", "Bearer at"}, // Dex's lowercase type is normalised
		{"Bearer", "Bearer at"},
		{"", "Bearer at"},
		{"N_A", "Bearer at"}, // RFC 8693: an exchanged ID token
	} {
		src := oauth.TokenSourceFunc(func(ctx context.Context) (*oauth2.Token, error) {
			return &oauth2.Token{AccessToken: "at", TokenType: tc.typ}, nil
		})
		req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
		req.Header.Set("Authorization", "Basic app-credentials")
		resp, err := (&http.Client{Transport: &oauth.Transport{Source: src}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != tc.want {
			t.Errorf("token_type %q: API saw %q, want %q", tc.typ, got, tc.want)
		}
		if req.Header.Get("Authorization") != "Basic app-credentials" {
			t.Error("RoundTrip modified the caller's request")
		}
	}
}

func TestTransportSourceError(t *testing.T) {
	want := errors.New("no token")
	src := oauth.TokenSourceFunc(func(ctx context.Context) (*oauth2.Token, error) { return nil, want })
	_, err := (&http.Client{Transport: &oauth.Transport{Source: src}}).Get("http://127.0.0.1:1/")
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want the source's error", err)
	}
}
