// Package app is the fedtoken program: Main for the binary, Run for
// tests and embedding.
package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// Main runs fedtoken with the process's arguments and streams and exits
// with the documented status. It is the only place that calls os.Exit.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := cmd.StandardStreams()
	err := Run(ctx, streams, os.Args[1:])
	stop()
	os.Exit(Report(streams.ErrOut, err))
}

// Report prints err to w (unless it was already reported) and returns
// the exit status for it.
func Report(w io.Writer, err error) int {
	if err != nil && !exitcode.IsSilent(err) {
		fmt.Fprintf(w, "fedtoken: %v\n", err)
	}
	return exitcode.Of(err)
}

// Run runs fedtoken with args in this process's environment.
func Run(ctx context.Context, streams cmd.IOStreams, args []string) error {
	return RunEnv(ctx, cmd.NewEnv(streams), args)
}

// RunEnv runs fedtoken with args in env.
func RunEnv(ctx context.Context, env *cmd.Env, args []string) error {
	root := fedtoken.NewCommand(env)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
