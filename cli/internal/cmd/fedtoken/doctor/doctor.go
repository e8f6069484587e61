// Package doctor implements `fedtoken doctor`: the troubleshooting guide
// as a command. It checks a provider step by step — configuration,
// subject token, audience, discovery, token endpoint, a dry-run exchange —
// and says for each failed check what to fix.
package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/config"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

type flags struct {
	Offline bool
}

// NewCommand returns the doctor command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "doctor [PROVIDER]",
		Short: "Check a provider end to end and explain what to fix",
		Long: `Check PROVIDER (every configured provider when omitted), step by step:

  config          the configuration parses and the provider can be built
  subject         the subject token source is present and readable, holds a
                  JWT, and the JWT has not expired (with the kubelet's
                  rotation time for a pod-bound projected ServiceAccount
                  token)
  audience        the JWT's aud is what the IdP expects (its issuer, for
                  jwt_bearer and federated client authentication) — checked
                  before any request to the IdP; when it fails, nothing is
                  sent to the IdP and the checks below are skipped
  client auth     (only when it matters) jwt_bearer with no client
                  authentication at a Keycloak issuer: Keycloak refuses
                  public clients ("Public client not allowed to use
                  authorization grant"); clientAuth.method federated is the
                  secretless fix
  discovery       the issuer's discovery document is reachable over
                  verified TLS, names the same issuer and offers the grant
  token endpoint  the token endpoint answers
  exchange        a dry run of the grant: a token is requested (and thrown
                  away, never cached or shown); a refusal is explained, e.g.
                  Dex's "Invalid subject_token_type" → set
                  tokenExchange.subjectTokenType to
                  urn:ietf:params:oauth:token-type:id_token

Each check prints ✓ when it passed, ! for a warning, ✗ when it failed
(with the fix), and - when it was skipped. The exit status is 0 when no
check failed; otherwise it is the status of the first failure (3 config,
4 subject token, 5 IdP rejection, 6 network). --offline stops before the
first request to the IdP. The dry run presents the subject token once,
like any acquisition.`,
		Example: `  fedtoken doctor
  fedtoken doctor miaou --offline`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), env, f, cmd.ProviderArg(args))
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
	c.Flags().BoolVar(&f.Offline, "offline", false, "skip the checks that contact the IdP")
	return c
}

func run(ctx context.Context, env *cmd.Env, f *flags, id string) error {
	out := env.Streams.Out
	file, err := env.LoadConfig()
	if err != nil {
		r := &report{w: out}
		r.fail("config", exitcode.Config, err.Error(), "fix the file, or point --config / $FEDTOKEN_CONFIG at the right one")
		return r.result()
	}
	providers := file.Providers
	if id != "" {
		p, err := file.Provider(id)
		if err != nil {
			r := &report{w: out}
			r.fail("config", exitcode.Config, err.Error(), "")
			return r.result()
		}
		providers = []config.Provider{*p}
	}
	first := 0
	for i, p := range providers {
		if i > 0 {
			fmt.Fprintln(out)
		}
		r := &report{w: out}
		d := &doctor{env: env, file: file, p: p, r: r, offline: f.Offline}
		d.check(ctx)
		if code := r.failedCode(); code != 0 && first == 0 {
			first = code
		}
	}
	if first != 0 {
		return exitcode.Silent(first)
	}
	return nil
}

// report prints checks as they complete.
type report struct {
	w      io.Writer
	failed []int // exit codes of failed checks, in order
}

const labelWidth = 15

func (r *report) line(mark, label, msg string) {
	fmt.Fprintf(r.w, "  %s %-*s %s\n", mark, labelWidth, label, indent(msg))
}

func (r *report) ok(label, msg string)   { r.line("✓", label, msg) }
func (r *report) warn(label, msg string) { r.line("!", label, msg) }
func (r *report) skip(label, msg string) { r.line("-", label, msg) }

func (r *report) fail(label string, code int, msg, fix string) {
	r.failed = append(r.failed, code)
	r.line("✗", label, msg)
	if fix != "" {
		fmt.Fprintf(r.w, "    %-*s %s\n", labelWidth, "", indent("fix: "+fix))
	}
}

func (r *report) failedCode() int {
	if len(r.failed) == 0 {
		return 0
	}
	return r.failed[0]
}

func (r *report) result() error {
	if c := r.failedCode(); c != 0 {
		return exitcode.Silent(c)
	}
	return nil
}

// indent aligns continuation lines under the message column.
func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+strings.Repeat(" ", labelWidth+5))
}
