package provider

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/grant"
)

// ErrLoginRequired is returned by interactive providers (authorization_code,
// device_code) that hold no usable token: a person has to log in first
// (fedtoken login PROVIDER), which stores a token with a refresh token.
var ErrLoginRequired = errors.New("login required")

// interactive serves authorization_code and device_code providers outside
// of a login: it can only renew a stored token with its refresh token.
type interactive struct {
	id      string
	flow    config.Flow
	refresh *grant.Refresh
}

func (s *interactive) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

func (s *interactive) TokenContext(context.Context) (*oauth2.Token, error) {
	return nil, fmt.Errorf("provider %q uses %s: %w: run `fedtoken login %s` on a machine with a browser, or use a machine flow (%s)",
		s.id, s.flow, ErrLoginRequired, s.id, grant.MachineFlows(""))
}

func (s *interactive) Renew(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
	return s.refresh.Renew(ctx, prev)
}
