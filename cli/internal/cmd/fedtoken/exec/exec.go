// Package exec implements `fedtoken exec`: run a command with an access
// token in its environment.
package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
	"github.com/fedtoken/fedtoken/cli/internal/output"
)

type flags struct {
	EnvName     string
	BaseURLName string
}

// NewCommand returns the exec command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use: "exec [PROVIDER] [--env NAME] [--base-url-env NAME] -- COMMAND [ARG...]",
		// The flags are in Use; "[flags]" after "--" would mislead.
		DisableFlagsInUseLine: true,
		Short:                 "Run a command with an access token in its environment",
		Long: `Run COMMAND with a valid access token of PROVIDER (the only provider when
omitted) in the environment variable NAME (default OPENAI_API_KEY), and
exit with the command's exit status (128+N when it is killed by signal N).

With --base-url-env, the provider's baseURL is also set in that variable
(e.g. OPENAI_BASE_URL).

The token is obtained once, before the command starts: it is valid then,
for at least the expiry skew (30 s by default). A command that runs longer
than the token's lifetime should call "fedtoken token" whenever it needs
one, or go through fedtoken-sidecar.

SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to the command.`,
		Example: `  # one-shot LLM job in a CronJob
  fedtoken exec miaou -- opencode run "Summarize yesterday's tickets"

  # another variable name, and the API URL too
  fedtoken exec --env LLM_TOKEN --base-url-env OPENAI_BASE_URL -- ./report.sh`,
		Args: cmd.Args(func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			if dash < 0 || dash == len(args) {
				return errors.New(`give the command after "--": fedtoken exec [PROVIDER] -- COMMAND [ARG...]`)
			}
			if dash > 1 {
				return fmt.Errorf("at most one PROVIDER before \"--\", got %d arguments", dash)
			}
			return nil
		}),
		RunE: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			return run(c.Context(), env, f, cmd.ProviderArg(args[:dash]), args[dash:])
		},
		ValidArgsFunction: cmd.CompleteProviders(env),
	}
	c.Flags().StringVar(&f.EnvName, "env", output.DefaultEnvName, "environment variable `NAME` that receives the token")
	c.Flags().StringVar(&f.BaseURLName, "base-url-env", "", "also set the provider's baseURL in variable `NAME`")
	return c
}

func run(ctx context.Context, env *cmd.Env, f *flags, id string, argv []string) error {
	if err := output.CheckEnvName(f.EnvName); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if f.BaseURLName != "" {
		if err := output.CheckEnvName(f.BaseURLName); err != nil {
			return exitcode.New(exitcode.Usage, fmt.Errorf("--base-url-env: %w", err))
		}
	}
	file, p, err := env.LoadProvider(id)
	if err != nil {
		return err
	}
	if f.BaseURLName != "" && p.BaseURL == "" {
		return exitcode.New(exitcode.Config, fmt.Errorf("--base-url-env %s: provider %q has no baseURL in %s", f.BaseURLName, p.ID, file.Path))
	}
	pr, err := env.OpenProvider(file, p)
	if err != nil {
		return err
	}
	tok, err := env.Token(ctx, pr)
	if err != nil {
		return err
	}
	vars := map[string]string{f.EnvName: tok.AccessToken}
	if f.BaseURLName != "" {
		vars[f.BaseURLName] = p.BaseURL
	}
	return runChild(env, argv, vars)
}

// runChild runs argv with vars added to (or replacing in) the
// environment, passes signals on, and returns the child's exit status as
// a silent exitcode.Error.
func runChild(env *cmd.Env, argv []string, vars map[string]string) error {
	path, err := osexec.LookPath(argv[0])
	if err != nil {
		return exitcode.New(127, fmt.Errorf("exec: %w", err))
	}
	child := osexec.Command(path, argv[1:]...)
	child.Env = mergeEnv(env.Environ(), vars)
	child.Stdin, child.Stdout, child.Stderr = env.Streams.In, env.Streams.Out, env.Streams.ErrOut

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return exitcode.New(126, fmt.Errorf("exec: %w", err))
	}
	env.ChildRunning.Store(true)
	defer env.ChildRunning.Store(false)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = child.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = child.Wait()
	close(done)
	if err == nil {
		return nil
	}
	var exit *osexec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("exec: %w", err)
	}
	code := exit.ExitCode()
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return exitcode.Silent(code)
}

// mergeEnv returns base with vars set, replacing earlier values.
func mergeEnv(base []string, vars map[string]string) []string {
	out := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := vars[name]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}
