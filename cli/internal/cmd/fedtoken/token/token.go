// Package token implements `fedtoken token`: print a valid access token.
package token

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
	"github.com/fedtoken/fedtoken/cli/internal/output"
)

type flags struct {
	Output  string
	EnvName string
}

// NewCommand returns the token command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "token [PROVIDER]",
		Short: "Print a valid access token",
		Long: `Print a valid access token for PROVIDER (the only provider when omitted).

The token comes from the token cache while it is fresh (no network I/O at
all), else it is renewed with a refresh token or obtained from the IdP —
re-reading the subject token — and cached for the next run.

Only the token goes to stdout; anything else goes to stderr.

Output formats (-o):

  raw     the token and a newline (default)
  json    {"provider", "access_token", "token_type", "expiry", "expires_in"}
  header  Authorization: Bearer <token>
  env     export OPENAI_API_KEY=<token>   (the name is set by --env)`,
		Example: `  # call an API
  curl -H "$(fedtoken token -o header)" https://llm.example.com/v1/models

  # set OPENAI_API_KEY in this shell
  eval "$(fedtoken token miaou -o env)"

  # when does it expire?
  fedtoken token -o json | jq .expiry`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), env, f, cmd.ProviderArg(args))
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
	c.Flags().StringVarP(&f.Output, "output", "o", "raw", "output format: raw, json, header or env")
	c.Flags().StringVar(&f.EnvName, "env", output.DefaultEnvName, "variable `NAME` for -o env")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(output.Formats, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func run(ctx context.Context, env *cmd.Env, f *flags, id string) error {
	if err := output.CheckFormat(f.Output); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if err := output.CheckEnvName(f.EnvName); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	file, p, err := env.LoadProvider(id)
	if err != nil {
		return err
	}
	_, tok, err := env.OpenToken(ctx, file, p)
	if err != nil {
		return err
	}
	return output.Write(env.Streams.Out, f.Output, tok, output.Token{Provider: p.ID, EnvName: f.EnvName, Now: env.Now()})
}
