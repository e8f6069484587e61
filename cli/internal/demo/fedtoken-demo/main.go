// Command fedtoken-demo is the driver of `make demo` (see package demo).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedtoken/fedtoken/cli/internal/demo"
)

func main() {
	bin := flag.String("bin", "bin", "directory holding fedtoken and fedtoken-mockidp")
	rotation := flag.Duration("rotation", 0, "lifetime of the projected token (default 20s)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	fi, _ := os.Stdout.Stat()
	bold := fi != nil && fi.Mode()&os.ModeCharDevice != 0
	err := demo.Run(ctx, demo.Options{Bin: *bin, Out: os.Stdout, Rotation: *rotation, Bold: bold})
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo FAILED: %v\n", err)
		os.Exit(1)
	}
}
