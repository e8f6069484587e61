// Package inspect implements `fedtoken inspect`: decode a JWT's header
// and claims for a person, without ever printing the token or its
// signature.
package inspect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/subject"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

type flags struct {
	File   string
	Output string
}

// NewCommand returns the inspect command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "inspect [PROVIDER | -]",
		Short: "Decode a JWT's header and claims (never its signature)",
		Long: `Decode a JWT and show its header and claims, with every time both as
RFC 3339 and relative to now ("in 7m12s", "3m ago").

The token is read from --file, from stdin with "-", or else from the
subject token source of PROVIDER (the only provider when omitted) — the
projected ServiceAccount token, a CI OIDC token, …. Every token is read
with the checks fedtoken applies to a subject token: at most 64 KiB, one
token and nothing else; a --file must be a regular file (for a pipe, use
"-"). An expired token is shown, not refused.

For a projected Kubernetes ServiceAccount token (pod-bound: it has a
kubernetes.io.pod claim), inspect also shows when the kubelet will rotate
it: at 80 % of its lifetime. Tokens from kubectl create token are not
rotated by anyone, so none is shown.

Nothing is verified: the signature is not checked, so the claims are only
what the token says about itself. The raw token and its signature are
never printed.`,
		Example: `  # the workload's projected ServiceAccount token
  fedtoken inspect --file /var/run/secrets/tokens/oauth2/token

  # the subject token of provider "miaou", wherever its config says it is
  fedtoken inspect miaou

  # an access token
  fedtoken token miaou | fedtoken inspect -

  # as JSON
  fedtoken inspect -o json --file token.jwt`,
		Args: cmd.Args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), env, f, args)
		},
	}
	c.Flags().StringVarP(&f.File, "file", "f", "", "read the token from `PATH`")
	c.Flags().StringVarP(&f.Output, "output", "o", "text", "output format: text or json")
	return c
}

func run(ctx context.Context, env *cmd.Env, f *flags, args []string) error {
	if f.Output != "text" && f.Output != "json" {
		return exitcode.Usagef("--output %q: use text or json", f.Output)
	}
	arg := cmd.ProviderArg(args)
	if f.File != "" && arg != "" {
		return exitcode.Usagef("give either --file or %q, not both", arg)
	}
	info, source, err := read(ctx, env, f.File, arg)
	if err != nil {
		return err
	}
	if info.DecodeError != nil {
		return exitcode.New(exitcode.Subject, fmt.Errorf("inspect %s: %w", source, info.DecodeError))
	}
	h, c := info.Header, info.Claims
	r := newReport(source, h, c, env.Now())
	if f.Output == "json" {
		return r.writeJSON(env.Streams.Out)
	}
	return r.writeText(env.Streams.Out)
}

// read reads the token through core (subject.Inspect, with the checks
// and limits of the subject token sources) and returns its description
// and where it came from. An expired token is described, not refused.
func read(ctx context.Context, env *cmd.Env, file, arg string) (subject.Info, string, error) {
	switch {
	case file != "":
		info, err := inspect(ctx, subject.File{Path: file})
		return info, "file " + file, err
	case arg == "-":
		tok, err := readStdin(env.Streams.In)
		if err != nil {
			return subject.Info{}, "stdin", err
		}
		info, err := inspect(ctx, subject.Static(tok))
		if err != nil {
			err = exitcode.New(exitcode.Subject, fmt.Errorf("inspect: stdin: %w", err))
		}
		return info, "stdin", err
	default:
		file, p, err := env.LoadProvider(arg)
		if err != nil {
			return subject.Info{}, "", err
		}
		pr, err := env.OpenProvider(file, p)
		if err != nil {
			return subject.Info{}, "", err
		}
		info, src, err := env.InspectSubject(ctx, p, pr)
		return info, "provider " + p.ID + " subject token, " + src, err
	}
}

// inspect describes src's token; an expired one is no error here.
func inspect(ctx context.Context, src subject.Source) (subject.Info, error) {
	info, err := subject.Inspect(ctx, src)
	var expired *subject.ExpiredError
	if err != nil && !errors.As(err, &expired) {
		return info, exitcode.New(exitcode.Subject, err)
	}
	return info, nil
}

// readStdin reads a token from stdin, as `fedtoken token` prints it in
// any format but json: bare, or after "Bearer " or "Authorization: Bearer ".
func readStdin(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, subject.MaxTokenSize+1))
	if err != nil {
		return "", exitcode.New(exitcode.Subject, fmt.Errorf("inspect: read stdin: %w", err))
	}
	if len(b) > subject.MaxTokenSize {
		return "", exitcode.New(exitcode.Subject, fmt.Errorf("inspect: stdin is larger than %d bytes: not a JWT", subject.MaxTokenSize))
	}
	tok := string(bytes.TrimSpace(b))
	tok = strings.TrimPrefix(tok, "Bearer ")
	tok = strings.TrimPrefix(tok, "Authorization: Bearer ")
	if tok == "" {
		return "", exitcode.New(exitcode.Subject, errors.New("inspect: stdin is empty"))
	}
	return tok, nil
}
