package grant

import (
	"context"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// TokenExchange is the RFC 8693 token exchange grant: the platform JWT is
// the subject_token.
//
// Dex accepts only the id_token and access_token subject types and needs
// its connector in Params ("connector_id"); it ignores audience, resource
// and actor tokens.
type TokenExchange struct {
	Endpoint
	// Client posts the request; nil means a default oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client.
	Auth oauth.ClientAuth
	// Subject supplies the subject_token, read afresh on every acquisition.
	Subject subject.Source
	// SubjectTokenType defaults to TokenTypeJWT.
	SubjectTokenType string
	// Actor optionally supplies an actor_token, read like Subject.
	Actor subject.Source
	// ActorTokenType defaults to TokenTypeJWT; sent only with an Actor.
	ActorTokenType string
	// RequestedTokenType is sent when set.
	RequestedTokenType string
	// Audience and Resource are sent as one parameter per value.
	Audience, Resource []string
	// Scopes are sent space-separated as "scope".
	Scopes []string
	// Params are extra form parameters; they may not repeat one the grant sets.
	Params url.Values
}

// Token implements oauth2.TokenSource.
func (g *TokenExchange) Token() (*oauth2.Token, error) { return g.TokenContext(context.Background()) }

// TokenContext exchanges the current subject token for a token.
func (g *TokenExchange) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	subjectToken, err := readToken(ctx, nameTokenExchange, "subject token", g.Subject)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":         {GrantTypeTokenExchange},
		"subject_token":      {subjectToken},
		"subject_token_type": {orDefault(g.SubjectTokenType, TokenTypeJWT)},
	}
	if g.Actor != nil {
		actorToken, err := readToken(ctx, nameTokenExchange, "actor token", g.Actor)
		if err != nil {
			return nil, err
		}
		form.Set("actor_token", actorToken)
		form.Set("actor_token_type", orDefault(g.ActorTokenType, TokenTypeJWT))
	}
	if g.RequestedTokenType != "" {
		form.Set("requested_token_type", g.RequestedTokenType)
	}
	if len(g.Audience) > 0 {
		form["audience"] = append([]string(nil), g.Audience...)
	}
	if len(g.Resource) > 0 {
		form["resource"] = append([]string(nil), g.Resource...)
	}
	return request{grant: nameTokenExchange, ep: g.Endpoint, client: g.Client, auth: g.Auth,
		form: form, scopes: g.Scopes, params: g.Params}.do(ctx)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
