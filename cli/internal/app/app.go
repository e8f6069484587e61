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
	"time"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// Main runs fedtoken with the process's arguments and streams and exits
// with the documented status. It is the only place that calls os.Exit.
//
// SIGINT or SIGTERM cancels the run; if the command has not returned
// signalGrace later (something it waits on ignores cancellation), Main
// exits anyway with 128+signal, unless a child started by `fedtoken exec`
// is running (signals are passed on to it and its status is ours). A
// second signal ends the process at once.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := cmd.StandardStreams()
	env := cmd.NewEnv(streams)
	done := make(chan error, 1)
	go func() { done <- RunEnv(ctx, env, os.Args[1:]) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		stop() // restore the default action: a second signal kills
		t := time.NewTimer(signalGrace)
		for err == nil {
			select {
			case err = <-done:
				if err == nil {
					stop()
					os.Exit(exitcode.OK)
				}
			case <-t.C:
				if env.ChildRunning.Load() {
					t.Reset(signalGrace)
					continue
				}
				fmt.Fprintf(streams.ErrOut, "fedtoken: interrupted; still busy %s after the signal, exiting\n", signalGrace)
				os.Exit(exitcode.Interrupted)
			}
		}
	}
	stop()
	os.Exit(Report(streams.ErrOut, err))
}

// signalGrace is how long Main waits for a cancelled command to return.
const signalGrace = 5 * time.Second

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
