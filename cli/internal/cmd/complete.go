package cmd

import (
	"github.com/spf13/cobra"
)

// CompleteProviders completes the PROVIDER argument with the ids of the
// configured providers.
func CompleteProviders(env *Env) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		f, err := env.LoadConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ids := make([]cobra.Completion, 0, len(f.Providers))
		for _, p := range f.Providers {
			ids = append(ids, cobra.CompletionWithDesc(p.ID, string(p.AuthFlow)))
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}
