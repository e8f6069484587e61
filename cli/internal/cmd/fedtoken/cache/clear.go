package cache

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

func newClearCommand(env *cmd.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "clear [PROVIDER]",
		Short: "Delete cached tokens (all providers, or one)",
		Long: `Delete the cached token of PROVIDER, or of every configured provider when
none is given. Refresh tokens go with them: interactive providers then
need "fedtoken login" again.`,
		Example: `  fedtoken cache clear
  fedtoken cache clear miaou`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return runClear(c.Context(), env, cmd.ProviderArg(args))
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
}

func runClear(ctx context.Context, env *cmd.Env, id string) error {
	file, err := env.LoadConfig()
	if err != nil {
		return err
	}
	providers := file.Providers
	if id != "" {
		p, err := file.Provider(id)
		if err != nil {
			return exitcode.New(exitcode.Config, err)
		}
		providers = []config.Provider{*p}
	}
	store := env.Store(file)
	for _, p := range providers {
		if err := store.Delete(ctx, provider.CacheKey(p)); err != nil {
			return err
		}
		fmt.Fprintf(env.Streams.ErrOut, "Cleared the cached token of %s.\n", p.ID)
	}
	return nil
}
