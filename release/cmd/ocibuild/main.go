// Command ocibuild packs one static binary into an image tarball without a
// container daemon (see package ociimage). `make images` runs it.
//
//	ocibuild -binary bin/fedtoken -ref fedtoken.local/fedtoken:e2e -out bin/images/fedtoken.tar \
//	    -ca-bundle /etc/ssl/certs/ca-certificates.crt -label org.opencontainers.image.version=v1.2.3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/fedtoken/fedtoken/release/ociimage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ocibuild:", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ocibuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o ociimage.Options
	fs.StringVar(&o.Binary, "binary", "", "static binary to pack (required)")
	fs.StringVar(&o.Ref, "ref", "", "image reference to tag the tarball with (required)")
	fs.StringVar(&o.Out, "out", "", "tarball to write (required)")
	fs.StringVar(&o.User, "user", "65532:65532", "numeric user[:group] the image runs as")
	fs.StringVar(&o.Arch, "arch", "", "image architecture (default: the binary's)")
	fs.StringVar(&o.CABundle, "ca-bundle", "", "PEM root certificates to put at "+ociimage.CABundlePath)
	fs.Func("label", "KEY=VALUE image label (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		if o.Labels == nil {
			o.Labels = map[string]string{}
		}
		o.Labels[k] = val
		return nil
	})
	fs.Func("env", "KEY=VALUE environment variable of the image (repeatable)", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		o.Env = append(o.Env, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Binary == "" || o.Ref == "" || o.Out == "" {
		fs.Usage()
		return errors.New("-binary, -ref and -out are required")
	}
	return ociimage.Build(o)
}
