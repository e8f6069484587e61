// Command fedtoken-sidecar keeps OAuth access tokens fresh for the other
// containers of a pod and hands them out through an auth-injecting proxy,
// a token endpoint and token files. See docs/sidecar.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedtoken/fedtoken/sidecar/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, app.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fedtoken-sidecar:", err)
		os.Exit(1)
	}
}
