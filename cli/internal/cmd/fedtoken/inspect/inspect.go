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
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/jwt"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// maxTokenBytes bounds what inspect reads: a JWT is a few KiB at most.
const maxTokenBytes = 64 << 10

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
projected ServiceAccount token, a CI OIDC token, ….

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
	token, source, err := read(ctx, env, f.File, arg)
	if err != nil {
		return err
	}
	h, c, err := jwt.Decode(token)
	if err != nil {
		return exitcode.New(exitcode.Subject, fmt.Errorf("inspect %s: %w", source, err))
	}
	r := newReport(source, h, c, env.Now())
	if f.Output == "json" {
		return r.writeJSON(env.Streams.Out)
	}
	return r.writeText(env.Streams.Out)
}

// read returns the token and a description of where it came from.
func read(ctx context.Context, env *cmd.Env, file, arg string) (string, string, error) {
	switch {
	case file != "":
		tok, err := readFile(file)
		return tok, "file " + file, err
	case arg == "-":
		tok, err := readAll(env.Streams.In, "stdin")
		return tok, "stdin", err
	default:
		file, p, err := env.LoadProvider(arg)
		if err != nil {
			return "", "", err
		}
		pr, err := env.OpenProvider(file, p)
		if err != nil {
			return "", "", err
		}
		tok, src, err := env.RawSubjectToken(ctx, p, pr)
		return tok, "provider " + p.ID + " subject token, " + src, err
	}
}

func readFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", exitcode.New(exitcode.Subject, fmt.Errorf("inspect: %w", err))
	}
	defer fh.Close()
	return readAll(fh, path)
}

func readAll(r io.Reader, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTokenBytes+1))
	if err != nil {
		return "", exitcode.New(exitcode.Subject, fmt.Errorf("inspect: read %s: %w", name, err))
	}
	if len(b) > maxTokenBytes {
		return "", exitcode.New(exitcode.Subject, fmt.Errorf("inspect: %s is larger than %d bytes: not a JWT", name, maxTokenBytes))
	}
	tok := string(bytes.TrimSpace(b))
	tok = strings.TrimPrefix(tok, "Bearer ")
	tok = strings.TrimPrefix(tok, "Authorization: Bearer ")
	if tok == "" {
		return "", exitcode.New(exitcode.Subject, errors.New("inspect: "+name+" is empty"))
	}
	return tok, nil
}
