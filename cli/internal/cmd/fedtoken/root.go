// Package fedtoken is the root of the fedtoken command tree.
package fedtoken

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/grant"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/cache"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/config"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/doctor"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/exec"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/inspect"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/login"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/logout"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/models"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/token"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/version"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// NewCommand returns the fedtoken root command with every subcommand.
func NewCommand(env *cmd.Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "fedtoken",
		Short: "OAuth 2.0 access tokens for workloads and people, without stored secrets",
		Long: `fedtoken presents the identity a workload already has — a projected
Kubernetes ServiceAccount token, a GitHub Actions or GitLab OIDC token — to
your IdP (RFC 7523 jwt_bearer, RFC 8693 token_exchange, or
client_credentials with a federated client assertion) and prints or passes
on the access token it gets back. People on laptops log in with the
device code or authorization code flow instead.

authFlow (docs/configuration.md):
` + flowList() + `
It reads its own config file or the upstream opencode.json, unchanged.
stdout carries only the output asked for; everything else goes to stderr.

Exit status: 0 ok, 1 other error, 2 usage, 3 config, 4 subject token,
5 rejected by the IdP, 6 network, 7 login required (see docs/cli.md).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cmd.Args(cobra.NoArgs),
		PersistentPreRun: func(*cobra.Command, []string) {
			env.SetVerbosity(env.Flags.Verbose)
		},
		// Runnable, so that cobra validates Args (unknown commands are
		// usage errors) instead of printing help with status 0.
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.SetIn(env.Streams.In)
	c.SetOut(env.Streams.Out)
	c.SetErr(env.Streams.ErrOut)
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitcode.New(exitcode.Usage, err) })
	pf := c.PersistentFlags()
	pf.StringVar(&env.Flags.Config, "config", "", "configuration `FILE` (default: $FEDTOKEN_CONFIG, $OPENCODE_CONFIG_DIR/opencode.json, ~/.config/fedtoken/config.yaml, …)")
	pf.StringVar(&env.Flags.CacheDir, "cache-dir", "", "token cache `DIR` (default: $FEDTOKEN_CACHE_DIR, the config's cache.dir, ~/.cache/fedtoken)")
	pf.CountVarP(&env.Flags.Verbose, "verbose", "v", "log more to stderr (-v info, -vv debug)")

	c.AddCommand(
		token.NewCommand(env),
		exec.NewCommand(env),
		login.NewCommand(env),
		logout.NewCommand(env),
		inspect.NewCommand(env),
		models.NewCommand(env),
		doctor.NewCommand(env),
		cache.NewCommand(env),
		config.NewCommand(env),
		version.NewCommand(env),
	)
	c.InitDefaultCompletionCmd()
	for _, sub := range c.Commands() {
		if sub.Name() == "completion" {
			sub.Example = "  source <(fedtoken completion bash)\n  fedtoken completion zsh > \"${fpath[1]}/_fedtoken\""
		}
	}
	return c
}

// flowList lists the flows of core's table, one a line.
func flowList() string {
	var b strings.Builder
	for _, f := range grant.Flows {
		fmt.Fprintf(&b, "  %-19s %s\n", f.Name, f.Summary)
	}
	return b.String()
}
