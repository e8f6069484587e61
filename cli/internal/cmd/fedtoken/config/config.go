// Package config implements `fedtoken config validate|view`.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	coreconfig "github.com/fedtoken/fedtoken/core/config"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// NewCommand returns the config command and its subcommands.
func NewCommand(env *cmd.Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Check or show the configuration",
		Long: `Check or show the configuration file: a native fedtoken file (YAML or
JSON, top-level "providers") or the upstream opencode.json, read unchanged.

Without FILE, the file is looked up in this order: --config,
$FEDTOKEN_CONFIG, $OPENCODE_CONFIG_DIR/opencode.json, then in the user
config directory fedtoken/config.yaml, fedtoken/config.yml,
fedtoken/config.json and opencode/opencode.json.`,
		Args: cmd.Args(cobra.NoArgs),
		// Runnable, so that an unknown subcommand is a usage error.
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newValidateCommand(env), newViewCommand(env))
	return c
}

// load parses FILE when given, else the file found by the lookup order.
func load(env *cmd.Env, args []string) (*coreconfig.File, error) {
	if len(args) == 0 {
		return env.LoadConfig()
	}
	f, err := coreconfig.Load(args[0])
	if err != nil {
		return nil, exitcode.New(exitcode.Config, err)
	}
	return f, nil
}

func newValidateCommand(env *cmd.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check the configuration and list its providers",
		Long: `Parse the configuration and check every field. Each problem is reported
with the JSON path of the field and what is allowed; the exit status is 3
when there is one. A key that is another spelling of a known one
(auth_flow, clientID, extra_params, isuer) is such a problem, reported with
"did you mean". Warnings (other unknown fields, fields the chosen flow
ignores) are printed but do not fail.`,
		Example: `  fedtoken config validate
  fedtoken config validate /etc/opencode/opencode.json`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := load(env, args)
			if err != nil {
				return err
			}
			for _, w := range f.Warnings {
				fmt.Fprintf(env.Streams.ErrOut, "warning: %s\n", w)
			}
			ids := make([]string, len(f.Providers))
			for i, p := range f.Providers {
				ids[i] = fmt.Sprintf("%s (%s)", p.ID, p.AuthFlow)
			}
			_, err = fmt.Fprintf(env.Streams.Out, "%s: valid %s config, %d provider(s): %s\n",
				f.Path, f.Format, len(f.Providers), strings.Join(ids, ", "))
			return err
		},
	}
}

type viewFlags struct {
	Output string
}

func newViewCommand(env *cmd.Env) *cobra.Command {
	f := &viewFlags{}
	c := &cobra.Command{
		Use:   "view [FILE]",
		Short: "Show the effective configuration, secrets redacted",
		Long: `Print the configuration as a native fedtoken file, whatever shape it was
read from, with every default spelled out and the client authentication
method resolved (auto shows as client_secret_basic when a secret is set,
none otherwise; a secret in an opencode.json shows as client_secret_post,
the plugin's way). Settings the provider's flow does not use (PKCE and the
redirect port for machine flows, token exchange parameters for other
flows…) are left out. Client secrets are shown as [REDACTED].`,
		Example: `  fedtoken config view
  fedtoken config view -o json /etc/opencode/opencode.json`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			if f.Output != "yaml" && f.Output != "json" {
				return exitcode.Usagef("--output %q: use yaml or json", f.Output)
			}
			file, err := load(env, args)
			if err != nil {
				return err
			}
			var out []byte
			if f.Output == "yaml" {
				out, err = file.View()
			} else {
				var raw []byte
				if raw, err = json.Marshal(file); err == nil {
					var b bytes.Buffer
					if err = json.Indent(&b, raw, "", "  "); err == nil {
						b.WriteByte('\n')
						out = b.Bytes()
					}
				}
			}
			if err != nil {
				return err
			}
			_, err = env.Streams.Out.Write(out)
			return err
		},
	}
	c.Flags().StringVarP(&f.Output, "output", "o", "yaml", "output format: yaml or json")
	return c
}
