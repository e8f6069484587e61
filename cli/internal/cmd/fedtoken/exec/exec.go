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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/models"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
	"github.com/fedtoken/fedtoken/cli/internal/output"
)

type flags struct {
	EnvName     string
	BaseURLName string
	ModelSync   string
}

// opencodeConfigContent is opencode's variable for extra configuration
// text, merged over its config files (highest precedence below managed
// configuration).
const opencodeConfigContent = "OPENCODE_CONFIG_CONTENT"

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

When COMMAND is opencode (--model-sync auto, the default) or with
--model-sync on, the gateway's models are listed first, as the
opencode-oauth2 plugin does (see "fedtoken models"), and handed to opencode
in OPENCODE_CONFIG_CONTENT as provider.<PROVIDER>.models, each with its
normalised name or its nameOverrides entry. opencode merges that variable
over its config files, so settings written there are kept; a value already
in the environment is merged, not replaced. When the listing fails the last
good list (kept in the token cache directory) is used, with a warning; the
command starts either way. --model-sync off turns this off.

SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to the command.`,
		Example: `  # one-shot LLM job in a CronJob
  fedtoken exec miaou -- opencode run "Summarize yesterday's tickets"

  # opencode with the gateway's models, without the plugin
  fedtoken exec miaou -- opencode models miaou

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
	c.Flags().StringVar(&f.ModelSync, "model-sync", "auto", "`MODE` of giving opencode the gateway's models in "+opencodeConfigContent+": auto (when COMMAND is opencode), on or off")
	_ = c.RegisterFlagCompletionFunc("model-sync", cobra.FixedCompletions([]string{"auto", "on", "off"}, cobra.ShellCompDirectiveNoFileComp))
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
	switch f.ModelSync {
	case "auto", "on", "off":
	default:
		return exitcode.New(exitcode.Usage, fmt.Errorf("--model-sync %q: use auto, on or off", f.ModelSync))
	}
	file, p, err := env.LoadProvider(id)
	if err != nil {
		return err
	}
	if f.BaseURLName != "" && p.BaseURL == "" {
		return exitcode.New(exitcode.Config, fmt.Errorf("--base-url-env %s: provider %q has no baseURL in %s", f.BaseURLName, p.ID, file.Path))
	}
	pr, tok, err := env.OpenToken(ctx, file, p)
	if err != nil {
		return err
	}
	vars := map[string]string{f.EnvName: tok.AccessToken}
	if f.BaseURLName != "" {
		vars[f.BaseURLName] = p.BaseURL
	}
	if f.ModelSync == "on" || (f.ModelSync == "auto" && filepath.Base(argv[0]) == "opencode") {
		content, err := modelContent(ctx, env, f, file, p, pr.CacheKey(), tok)
		if err != nil {
			return err
		}
		if content != "" {
			vars[opencodeConfigContent] = content
		}
	}
	return runChild(env, argv, vars)
}

// modelContent syncs the provider's models and returns the
// OPENCODE_CONFIG_CONTENT that carries them, merged into the value already
// in the environment; "" when there is no list to give.
func modelContent(ctx context.Context, env *cmd.Env, f *flags, file *config.File, p *config.Provider, cacheKey string, tok *oauth2.Token) (string, error) {
	if p.BaseURL == "" {
		if f.ModelSync == "on" {
			return "", exitcode.New(exitcode.Config, fmt.Errorf("--model-sync on: provider %q has no baseURL in %s", p.ID, file.Path))
		}
		env.Logger.Debug("model sync skipped: no baseURL", "provider", p.ID)
		return "", nil
	}
	list, err := env.SyncModels(ctx, file, p, cacheKey, tok)
	switch {
	case err != nil && list == nil:
		env.Logger.Warn("model sync failed; opencode starts with the models of its own config", "provider", p.ID, "err", err)
		return "", nil
	case err != nil:
		env.Logger.Warn("model sync failed; using the last good list", "provider", p.ID, "models", len(list), "err", err)
	default:
		env.Logger.Info("models synced", "provider", p.ID, "models", len(list))
	}
	out, err := models.MergeJSON([]byte(env.Getenv(opencodeConfigContent)), models.Fragment(map[string][]models.Model{p.ID: list}))
	if err != nil {
		return "", exitcode.New(exitcode.Usage, fmt.Errorf("$%s: %w", opencodeConfigContent, err))
	}
	return string(out), nil
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
