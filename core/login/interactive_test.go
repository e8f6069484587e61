package login

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

type renewFunc func(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error)

func (f renewFunc) Renew(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
	return f(ctx, prev)
}

func TestInteractiveRenew(t *testing.T) {
	refreshed := &oauth2.Token{AccessToken: "refreshed", RefreshToken: "rt-1"}
	loggedIn := &oauth2.Token{AccessToken: "login", RefreshToken: "rt-2"}
	withRT := &oauth2.Token{AccessToken: "old", RefreshToken: "rt-1"}
	tests := []struct {
		name       string
		prev       *oauth2.Token
		refresh    renewFunc
		loginErr   error
		want       string
		wantLogins int
		wantIs     error
		wantMsg    string
	}{
		{name: "refresh works", prev: withRT, refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return refreshed, nil },
			want: "refreshed"},
		{name: "no previous token logs in", prev: nil, want: "login", wantLogins: 1},
		{name: "no refresh token logs in", prev: &oauth2.Token{AccessToken: "old"}, want: "login", wantLogins: 1},
		{name: "rejected refresh token logs in", prev: withRT,
			refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
				return nil, &oauth.Error{Code: "invalid_grant"}
			},
			want: "login", wantLogins: 1},
		{name: "IdP down: no login prompt", prev: withRT,
			refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
				return nil, &oauth.Error{Code: "temporarily_unavailable", StatusCode: 503}
			},
			wantIs: oauth.ErrTemporarilyUnavail},
		{name: "rejected and non-interactive says both", prev: withRT,
			refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
				return nil, &oauth.Error{Code: "invalid_grant"}
			},
			loginErr: ErrNonInteractive, wantLogins: 1, wantIs: ErrNonInteractive, wantMsg: "refresh token was rejected: oauth2: invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			login := &staticToken{tok: loggedIn, err: tt.loginErr}
			if tt.loginErr != nil {
				login.tok = nil
			}
			s := &Interactive{Login: login}
			if tt.refresh != nil {
				s.Refresh = tt.refresh
			}
			tok, err := s.Renew(t.Context(), tt.prev)
			if tt.wantIs != nil {
				if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("error = %v, want errors.Is %v containing %q", err, tt.wantIs, tt.wantMsg)
				}
			} else if err != nil || tok.AccessToken != tt.want {
				t.Fatalf("Renew = %v, %v; want %s", tok, err, tt.want)
			}
			if login.calls != tt.wantLogins {
				t.Errorf("logins = %d, want %d", login.calls, tt.wantLogins)
			}
		})
	}
}

func TestInteractiveTokenLogsIn(t *testing.T) {
	login := &staticToken{tok: &oauth2.Token{AccessToken: "login", RefreshToken: "r"}}
	s := &Interactive{Login: login, Refresh: renewFunc(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		t.Error("TokenContext refreshed")
		return nil, nil
	})}
	if tok, err := s.Token(); err != nil || tok.AccessToken != "login" || login.calls != 1 {
		t.Fatalf("Token = %v, %v (logins %d)", tok, err, login.calls)
	}
}
