// Package logout implements `fedtoken logout`: forget a provider's
// cached token.
package logout

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
)

// NewCommand returns the logout command.
func NewCommand(env *cmd.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [PROVIDER]",
		Short: "Forget a provider's cached token and refresh token",
		Long: `Delete the cached access token and refresh token of PROVIDER (the only
provider when omitted) from the token cache. The next "fedtoken token"
for an interactive provider then needs "fedtoken login" again; a machine
flow simply obtains a new token.

The tokens are not revoked at the IdP; they stay valid until they expire.`,
		Example: `  fedtoken logout miaou`,
		Args:    cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), env, cmd.ProviderArg(args))
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
}

func run(ctx context.Context, env *cmd.Env, id string) error {
	file, p, err := env.LoadProvider(id)
	if err != nil {
		return err
	}
	pr, err := env.OpenProvider(file, p)
	if err != nil {
		return err
	}
	if err := pr.Forget(ctx); err != nil {
		return err
	}
	fmt.Fprintf(env.Streams.ErrOut, "Logged out of %s: its cached token is deleted.\n", p.ID)
	return nil
}
