// Package models implements `fedtoken models`: list a gateway's models.
package models

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

type flags struct {
	Output  string
	Timeout time.Duration
}

// NewCommand returns the models command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "models [PROVIDER]",
		Short: "List the models of a provider's gateway",
		Long: `List the models the gateway of PROVIDER (the only provider when omitted)
serves, with a valid access token of that provider, as the opencode-oauth2
plugin does: GET <baseURL>/models when baseURL ends in /v1, else
GET <baseURL>/v1/models. Each model is shown with the name opencode would
show: the provider's nameOverrides, else the id normalised ("glm-4.5-air"
becomes "GLM 4.5 Air").

An answer other than 2xx fails with its status, the URL (without query or
credentials) and the start of the body, with anything that looks like a
token or secret removed. The request is bounded by --timeout (default: the
provider's httpTimeout, 15 s).

Output formats (-o):

  table  ID and NAME columns (default)
  json   [{"id", "name", "owned_by"}]`,
		Example: `  fedtoken models miaou
  fedtoken models miaou -o json | jq -r '.[].id'`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), env, f, cmd.ProviderArg(args))
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
	c.Flags().StringVarP(&f.Output, "output", "o", "table", "output format: table or json")
	c.Flags().DurationVar(&f.Timeout, "timeout", 0, "`DURATION` bounding the listing, e.g. 30s (0: the provider's httpTimeout)")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func run(ctx context.Context, env *cmd.Env, f *flags, id string) error {
	if f.Output != "table" && f.Output != "json" {
		return exitcode.New(exitcode.Usage, fmt.Errorf("-o %q: use table or json", f.Output))
	}
	if f.Timeout < 0 {
		return exitcode.New(exitcode.Usage, fmt.Errorf("--timeout %s: must not be negative", f.Timeout))
	}
	file, p, err := env.LoadProvider(id)
	if err != nil {
		return err
	}
	_, tok, err := env.OpenToken(ctx, file, p)
	if err != nil {
		return err
	}
	list, err := env.ListModels(ctx, file, p, tok, f.Timeout)
	if err != nil {
		return err
	}
	if f.Output == "json" {
		enc := json.NewEncoder(env.Streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(env.Streams.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME")
	for _, m := range list {
		fmt.Fprintf(tw, "%s\t%s\n", m.ID, m.Name)
	}
	return tw.Flush()
}
