// Package login implements `fedtoken login`: the interactive login of a
// provider that uses authorization_code or device_code.
package login

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/grant"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/humantime"
)

type flags struct {
	NoBrowser bool
}

// NewCommand returns the login command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "login [PROVIDER]",
		Short: "Log in to a provider that needs a person (browser or device code)",
		Long: `Log in to PROVIDER (the only provider when omitted) and cache its token
and refresh token, so that later "fedtoken token" and "fedtoken exec" runs
renew it silently.

authFlow authorization_code opens the IdP's login page in a browser (or
prints its URL) and receives the result on a loopback address,
127.0.0.1:redirectPort (any free port when 0). authFlow device_code
prints a code to enter on another device. Both use PKCE.

login always starts a new login, replacing any cached token. A machine
flow needs no login: login just obtains and caches a token. Machine
flows: ` + grant.MachineFlows("and") + `.

A non-interactive run (no terminal, or CI=true) never prompts: login
fails with exit status 7.`,
		Example: `  fedtoken login miaou
  fedtoken login --no-browser miaou   # print the URL instead of opening a browser`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), env, f, cmd.ProviderArg(args))
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
	c.Flags().BoolVar(&f.NoBrowser, "no-browser", false, "print the login URL instead of opening a browser")
	return c
}

func run(ctx context.Context, env *cmd.Env, f *flags, id string) error {
	file, p, err := env.LoadProvider(id)
	if err != nil {
		return err
	}
	pr, err := env.OpenProvider(file, p)
	if err != nil {
		return err
	}
	if f.NoBrowser {
		env.OpenBrowser = nil
	}
	if !p.AuthFlow.Interactive() {
		fmt.Fprintf(env.Streams.ErrOut, "Provider %s uses %s: no login needed; getting a token.\n", p.ID, p.AuthFlow)
		tok, err := pr.Refresh(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Streams.ErrOut, "Got a token for %s%s.\n", p.ID, expiry(env, tok.Expiry))
		return nil
	}
	tok, err := env.Login(ctx, pr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Streams.ErrOut, "Logged in to %s%s; the token is cached and renewed with its refresh token.\n", p.ID, expiry(env, tok.Expiry))
	return nil
}

// expiry says when the access token expires, if it does.
func expiry(env *cmd.Env, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " (the access token expires " + humantime.Relative(t, env.Now()) + ")"
}
