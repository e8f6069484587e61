// Command fedtoken-mockidp serves the mockidp test identity provider.
// Usage and output format: docs/mockidp.md.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedtoken/fedtoken/mockidp/internal/app"
)

func main() {
	// zitadel/oidc logs through slog.Default; the request log covers what it says below Error.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
