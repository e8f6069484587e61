package cmd

import (
	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// Args wraps a cobra argument validator so that its errors are usage
// errors (exit status 2).
func Args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return exitcode.New(exitcode.Usage, err)
		}
		return nil
	}
}

// ProviderArg returns the optional PROVIDER argument: "" selects the only
// provider of the configuration.
func ProviderArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}
