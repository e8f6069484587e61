package provider

import (
	"slices"
	"strconv"
	"strings"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
)

// cacheKeyVersion changes when the meaning of a cached token changes.
const cacheKeyVersion = "fedtoken/v1"

// CacheKey derives the store key of p from everything that changes the
// token it gets: issuer and endpoint, client, flow, client authentication,
// audiences, resources, token types, scopes, extra parameters and where the
// subject and actor tokens come from (an exec source's arguments
// included). It contains no secret. Stored tokens are also bound to the
// identity of the subject that earned them (see cache.WithIdentity). Two
// providers that differ only in id or display name share tokens.
func CacheKey(p config.Provider) string {
	parts := []string{cacheKeyVersion,
		p.Issuer, p.TokenEndpoint, p.ClientID, string(p.AuthFlow), string(p.ClientAuth.Method),
		strings.Join(p.Scopes, " "),
		p.TokenExchange.SubjectTokenType, p.TokenExchange.ActorTokenType, p.TokenExchange.RequestedTokenType,
		strings.Join(p.TokenExchange.Audience, "\x00"), strings.Join(p.TokenExchange.Resource, "\x00"),
		p.SubjectTokenSource.String(), p.ActorTokenSource.String(),
	}
	if p.SubjectTokenSource != nil {
		parts = append(parts, strings.Join(p.SubjectTokenSource.Command, "\x00"))
	}
	if p.ActorTokenSource != nil {
		parts = append(parts, "actor", strings.Join(p.ActorTokenSource.Command, "\x00"))
	}
	keys := make([]string, 0, len(p.ExtraParams))
	for k := range p.ExtraParams {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+p.ExtraParams[k])
	}
	parts = append(parts, strconv.Itoa(len(keys)))
	return cache.Key(parts...)
}
