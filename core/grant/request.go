package grant

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// request is one token request of a grant.
type request struct {
	grant  string // name for errors
	ep     Endpoint
	client *oauth.Client
	auth   oauth.ClientAuth
	form   url.Values
	scopes []string
	params url.Values
}

// do adds scopes and extra parameters, resolves the endpoint and posts.
func (r request) do(ctx context.Context) (*oauth2.Token, error) {
	if len(r.scopes) > 0 {
		r.form.Set("scope", strings.Join(r.scopes, " "))
	}
	for k, vs := range r.params {
		if r.form.Has(k) {
			return nil, fmt.Errorf("%s: extra parameter %q is set by the grant itself; remove it from the extra parameters", r.grant, k)
		}
		r.form[k] = append([]string(nil), vs...)
	}
	tokenURL, err := r.ep.TokenEndpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.grant, err)
	}
	auth := r.auth
	var federated string // the platform JWT a federated client authentication presented
	if assertion := auth.Assertion; assertion != nil {
		auth.Assertion = func(ctx context.Context) (string, error) {
			tok, err := assertion(ctx)
			federated = tok
			return tok, err
		}
	}
	tok, err := r.client.Token(ctx, tokenURL, r.form, auth)
	if err != nil {
		presented := r.form.Get("assertion") + r.form.Get("subject_token") + federated
		return nil, fmt.Errorf("%s: %w", r.grant, withHint(r.grant, r.auth, presented, err))
	}
	return tok, nil
}

// readToken reads a token from src for the named role ("subject token",
// "assertion", "actor token"). Sources name themselves in their errors.
func readToken(ctx context.Context, grant, role string, src subject.Source) (string, error) {
	if src == nil {
		return "", fmt.Errorf("%s: no %s source configured", grant, role)
	}
	tok, err := subject.Read(ctx, src)
	if err != nil {
		return "", fmt.Errorf("%s: read %s: %w", grant, role, err)
	}
	return tok, nil
}
