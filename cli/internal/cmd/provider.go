package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/provider"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
	"github.com/fedtoken/fedtoken/cli/internal/humantime"
)

// Store returns the token cache: --cache-dir, else $FEDTOKEN_CACHE_DIR,
// else the config file's cache.dir, else the cache package's default
// ($XDG_CACHE_HOME/fedtoken, ~/.cache/fedtoken).
func (e *Env) Store(f *config.File) cache.FileStore {
	switch {
	case e.Flags.CacheDir != "":
		return cache.FileStore{Dir: e.Flags.CacheDir}
	case e.Getenv("FEDTOKEN_CACHE_DIR") != "":
		return cache.FileStore{Dir: e.Getenv("FEDTOKEN_CACHE_DIR")}
	case f != nil && f.Cache.Dir != "":
		return cache.FileStore{Dir: f.Cache.Dir}
	}
	return cache.FileStore{}
}

// StoreDir returns the directory of the token cache.
func (e *Env) StoreDir(f *config.File) (string, error) {
	if d := e.Store(f).Dir; d != "" {
		return d, nil
	}
	return cache.DefaultDir()
}

// OpenProvider builds the provider p of file f over the file token cache.
// It does no network I/O. Its errors are configuration errors (a CA
// file, a private key, a client secret that cannot be read).
func (e *Env) OpenProvider(f *config.File, p *config.Provider) (*provider.Provider, error) {
	opts := append([]provider.Option{
		provider.WithStore(e.Store(f)),
		provider.WithObserver(func(ev provider.Event) {
			e.Logger.Info("token acquired", "provider", ev.Provider, "grant", ev.Grant, "renewed", ev.Renewed,
				"fromStore", ev.FromStore, "duration", ev.Duration, "err", ev.Err)
			if ev.StoreErr != nil {
				e.Logger.Warn("token cache not usable: every run asks the IdP until it is fixed (--cache-dir, $FEDTOKEN_CACHE_DIR or cache.dir)",
					"provider", ev.Provider, "err", ev.StoreErr)
			}
		})}, e.ProviderOptions...)
	pr, err := provider.New(*p, opts...)
	if err != nil {
		return nil, exitcode.New(exitcode.Config, err)
	}
	return pr, nil
}

// OpenToken opens provider p of file f (OpenProvider) and returns it with a
// valid access token (Token): the start of every command that calls an API
// with the token.
func (e *Env) OpenToken(ctx context.Context, f *config.File, p *config.Provider) (*provider.Provider, *oauth2.Token, error) {
	pr, err := e.OpenProvider(f, p)
	if err != nil {
		return nil, nil, err
	}
	tok, err := e.Token(ctx, pr)
	if err != nil {
		return nil, nil, err
	}
	return pr, tok, nil
}

// Token returns a valid access token of pr. For an interactive provider
// holding no usable token, it runs a login when this run is interactive
// and otherwise fails with a message that says how to log in.
func (e *Env) Token(ctx context.Context, pr *provider.Provider) (*oauth2.Token, error) {
	tok, err := pr.TokenContext(ctx)
	if err == nil || !errors.Is(err, provider.ErrLoginRequired) {
		return tok, err
	}
	if !e.Interactive() {
		return nil, fmt.Errorf("%w\n(this run is non-interactive: no terminal, or CI=true; it never prompts or opens a browser)", err)
	}
	return e.Login(ctx, pr)
}

// Login runs the login flow of an interactive provider, prompting on
// stderr, and stores the token so later runs renew it silently.
func (e *Env) Login(ctx context.Context, pr *provider.Provider) (*oauth2.Token, error) {
	cfg := pr.Config()
	ui := login.UI{}
	if e.Interactive() {
		ui.Show = func(p login.Prompt) { writePrompt(e.Streams.ErrOut, cfg.ID, p, e.Now()) }
		ui.OpenBrowser = e.OpenBrowser
	}
	tok, err := pr.Login(ctx, ui)
	if errors.Is(err, login.ErrNonInteractive) {
		return nil, fmt.Errorf("%w: run `fedtoken login %s` in a terminal (the token is then cached and renewed), or use a machine flow (%s)", err, cfg.ID, grant.MachineFlows(""))
	}
	return tok, err
}

// writePrompt tells the person what to do to finish a login.
func writePrompt(w io.Writer, id string, p login.Prompt, now time.Time) {
	switch {
	case p.UserCode != "":
		fmt.Fprintf(w, "To log in to %s, open %s\nand enter the code %s", id, p.VerificationURI, p.UserCode)
		if p.VerificationURIComplete != "" {
			fmt.Fprintf(w, ", or open %s", p.VerificationURIComplete)
		}
		fmt.Fprintf(w, ".\nWaiting for the login to be approved (the code expires %s)…\n", humantime.Relative(p.ExpiresAt, now))
	case p.BrowserOpened:
		fmt.Fprintf(w, "Log in to %s in the browser window that opened. If none did, open:\n  %s\nWaiting for the login (giving up %s)…\n",
			id, p.AuthorizeURL, humantime.Relative(p.ExpiresAt, now))
	default:
		fmt.Fprintf(w, "To log in to %s, open this URL in a browser on this machine:\n  %s\nWaiting for the login (giving up %s)…\n",
			id, p.AuthorizeURL, humantime.Relative(p.ExpiresAt, now))
	}
}
