package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fedtoken/fedtoken/release/dist"
	"github.com/fedtoken/fedtoken/release/ociimage"
)

func push(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dist", "dist", "snapshot directory")
	repo := fs.String("repo", "", "registry and owner, e.g. ghcr.io/fedtoken (required)")
	version := fs.String("version", "", "tag, e.g. v1.2.3 (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *repo == "" || *version == "" {
		return errors.New("push: -repo and -version are required")
	}
	for _, c := range dist.Commands {
		if !c.Released {
			continue
		}
		idx, err := ociimage.ReadLayout(filepath.Join(*dir, "images", c.Name))
		if err != nil {
			return err
		}
		tag, err := name.NewTag(*repo + "/" + c.Name + ":" + *version)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("push %s: %w", tag, err)
		}
		d, err := idx.Digest()
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		fmt.Fprintf(stdout, "%s@%s\n", tag.Context(), d)
	}
	return nil
}
