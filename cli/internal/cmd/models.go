package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// SyncModels lists the models of p's gateway like ListModels and keeps the
// list in the token cache directory; when the listing fails it returns the
// last good list from there (the plugin keeps its last good list across
// runs too), with the listing's error. It returns a nil list only when
// there never was a good one.
func (e *Env) SyncModels(ctx context.Context, file *config.File, p *config.Provider, cacheKey string, tok *oauth2.Token) ([]models.Model, error) {
	path := ""
	if dir, err := e.StoreDir(file); err == nil {
		sum := sha256.Sum256([]byte(cacheKey))
		path = filepath.Join(dir, "models", hex.EncodeToString(sum[:12])+".json")
	}
	list, err := e.ListModels(ctx, file, p, tok, 0)
	if err == nil {
		if path != "" {
			if werr := writeModels(path, list); werr != nil {
				e.Logger.Warn("model list not cached", "provider", p.ID, "err", werr)
			}
		}
		return list, nil
	}
	if path == "" {
		return nil, err
	}
	b, rerr := os.ReadFile(path)
	if rerr != nil {
		return nil, err
	}
	var last []models.Model
	if json.Unmarshal(b, &last) != nil {
		return nil, err
	}
	return last, err
}

// writeModels writes the list atomically, 0600 in a 0700 directory.
func writeModels(path string, list []models.Model) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".models-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
