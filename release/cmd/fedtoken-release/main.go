// Command fedtoken-release is the project's release tooling (see
// docs/releasing.md): a module proxy of the working tree for building each
// module on its own, the release snapshot (binaries, checksums, SBOMs,
// multi-arch images) and its verification.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedtoken/fedtoken/release/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fedtoken-release:", err)
		os.Exit(1)
	}
}
