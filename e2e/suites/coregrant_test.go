//go:build e2e

package suites

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"

	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
)

// The same exchanges as the raw-HTTP tests, through core's grant package:
// what the CLI and the sidecar run.

// The IdPs listen on the harness bridge (not loopback) so pods can reach
// them, over plain http; core refuses that unless allowed.
func endpoint(issuer, tokenURL string) grant.Endpoint {
	return grant.Endpoint{Issuer: issuer, TokenURL: tokenURL, AllowInsecureHTTP: true}
}

func TestCoreGrantKeycloakFederatedClientCredentials(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, 2*time.Minute)
	realmIssuer := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	tokenURL := keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.FederatedRealm)
	tests := []struct {
		name     string
		audience string
		wantErr  error
	}{
		{"right audience", realmIssuer, nil},
		{"wrong audience", "https://wrong-audience.e2e.invalid", oauth.ErrInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa := requestToken(t, ctx, tt.audience)
			g := &grant.ClientCredentials{
				Endpoint: endpoint(realmIssuer, tokenURL),
				Client:   &oauth.Client{Retry: oauth.RetryPolicy{MaxAttempts: 1}},
				Auth: oauth.ClientAuth{
					Method:       oauth.AuthFederated,
					Assertion:    func(context.Context) (string, error) { return sa, nil },
					OmitClientID: true,
				},
			}
			tok, err := g.TokenContext(ctx)
			if tok != nil {
				idt, _ := tok.Extra("id_token").(string)
				issued.Record(tok.AccessToken, tok.RefreshToken, idt)
			}
			checkGrant(t, tok, err, tt.wantErr)
			if err == nil && claims(t, tok.AccessToken)["azp"] != keycloak.FederatedClientID {
				t.Errorf("azp = %v", claims(t, tok.AccessToken)["azp"])
			}
		})
	}
}

func TestCoreGrantKeycloakJWTBearer(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, 2*time.Minute)
	realmIssuer := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.JWTGrantRealm)
	tokenURL := keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.JWTGrantRealm)
	tests := []struct {
		name     string
		audience string
		wantErr  error
	}{
		{"right audience", realmIssuer, nil},
		{"wrong audience", "https://wrong-audience.e2e.invalid", oauth.ErrInvalidGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &grant.JWTBearer{
				Endpoint:  endpoint(realmIssuer, tokenURL),
				Client:    &oauth.Client{Retry: oauth.RetryPolicy{MaxAttempts: 1}},
				Auth:      oauth.ClientAuth{Method: oauth.AuthClientSecretBasic, ClientID: keycloak.JWTGrantClientID, ClientSecret: oauth.Secret(e.KeycloakJWTGrantSecret)},
				Assertion: subject.Static(requestToken(t, ctx, tt.audience)),
			}
			tok, err := g.TokenContext(ctx)
			if tok != nil {
				idt, _ := tok.Extra("id_token").(string)
				issued.Record(tok.AccessToken, tok.RefreshToken, idt)
			}
			checkGrant(t, tok, err, tt.wantErr)
			if err == nil && claims(t, tok.AccessToken)["preferred_username"] != keycloak.JWTGrantUser {
				t.Errorf("preferred_username = %v", claims(t, tok.AccessToken)["preferred_username"])
			}
		})
	}
}

func TestCoreGrantDexTokenExchange(t *testing.T) {
	e := requireDex(t)
	ctx := testContext(t, 2*time.Minute)
	tests := []struct {
		name     string
		audience string
	}{
		{"dex issuer as audience", e.Dex.Issuer()},
		// Dex ignores aud (see TestDexTokenExchangeRaw); core must not add a check of its own here.
		{"unrelated audience", "https://unrelated-audience.e2e.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &grant.TokenExchange{
				Endpoint:         endpoint(e.Dex.Issuer(), ""),
				Client:           &oauth.Client{Retry: oauth.RetryPolicy{MaxAttempts: 1}},
				Auth:             oauth.ClientAuth{Method: oauth.AuthClientSecretBasic, ClientID: dex.ClientID, ClientSecret: oauth.Secret(e.DexClientSecret)},
				Subject:          subject.Static(requestToken(t, ctx, tt.audience)),
				SubjectTokenType: dex.SubjectTypeIDToken,
				Scopes:           []string{"openid", "profile"},
				Params:           url.Values{"connector_id": {dex.ConnectorID}},
			}
			tok, err := g.TokenContext(ctx)
			if tok != nil {
				idt, _ := tok.Extra("id_token").(string)
				issued.Record(tok.AccessToken, tok.RefreshToken, idt)
			}
			checkGrant(t, tok, err, nil)
			if err == nil && claims(t, tok.AccessToken)["iss"] != e.Dex.Issuer() {
				t.Errorf("iss = %v", claims(t, tok.AccessToken)["iss"])
			}
		})
	}
}

func checkGrant(t *testing.T, tok interface{ Valid() bool }, err, wantErr error) {
	t.Helper()
	switch {
	case wantErr == nil && err != nil:
		t.Fatalf("grant failed: %v", err)
	case wantErr != nil && err == nil:
		t.Fatalf("grant succeeded, want %v", wantErr)
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Fatalf("err = %v, want errors.Is %v", err, wantErr)
	case wantErr == nil && !tok.Valid():
		t.Fatal("token is not valid")
	}
}
