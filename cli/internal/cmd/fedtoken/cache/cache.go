// Package cache implements `fedtoken cache list|clear`.
package cache

import (
	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
)

// NewCommand returns the cache command and its subcommands.
func NewCommand(env *cmd.Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "cache",
		Short: "List or clear cached tokens",
		Long: `The token cache holds one file per provider configuration (mode 0600, in
a 0700 directory): --cache-dir, else $FEDTOKEN_CACHE_DIR, else the config
file's cache.dir, else $XDG_CACHE_HOME/fedtoken (~/.cache/fedtoken).
Processes sharing it make one IdP request between them.`,
		Args: cmd.Args(cobra.NoArgs),
		// Runnable, so that an unknown subcommand is a usage error.
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newListCommand(env), newClearCommand(env))
	return c
}
