package cmd

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/models"
	"github.com/fedtoken/fedtoken/core/oauth"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// ListModels lists the models of p's gateway (its baseURL) with tok,
// within timeout (0: the provider's httpTimeout). The token goes only to
// an https baseURL, or to http on loopback or with allowInsecureHTTP, and
// the provider's caFile is trusted for the gateway too.
func (e *Env) ListModels(ctx context.Context, file *config.File, p *config.Provider, tok *oauth2.Token, timeout time.Duration) ([]models.Model, error) {
	if p.BaseURL == "" {
		return nil, exitcode.New(exitcode.Config, fmt.Errorf("provider %q has no baseURL in %s: set provider.%s.options.baseURL (opencode.json) or baseURL", p.ID, file.Path, p.ID))
	}
	if err := oauth.CheckEndpointURL(p.BaseURL, p.AllowInsecureHTTP); err != nil {
		return nil, exitcode.New(exitcode.Config, fmt.Errorf("provider %q: baseURL: %w", p.ID, err))
	}
	client, err := oauth.NewHTTPClient(oauth.HTTPConfig{CAFile: p.CAFile})
	if err != nil {
		return nil, exitcode.New(exitcode.Config, fmt.Errorf("provider %q: %w", p.ID, err))
	}
	if timeout <= 0 {
		timeout = p.HTTPTimeout
	}
	l := &models.Lister{
		Source:  oauth.TokenSourceFunc(func(context.Context) (*oauth2.Token, error) { return tok, nil }),
		Client:  client,
		Timeout: timeout,
	}
	list, err := l.List(ctx, p.BaseURL, p.NameOverrides)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", p.ID, err)
	}
	return list, nil
}
