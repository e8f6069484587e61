package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fedtoken/fedtoken/release/dist"
)

// stampFlags are the flags every build subcommand shares.
type stampFlags struct {
	version, commit, caBundle string
	epoch                     int64
}

func (s *stampFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.version, "version", "", "version to stamp, e.g. v1.2.3")
	fs.StringVar(&s.commit, "commit", "", "commit to stamp (full revision)")
	fs.StringVar(&s.caBundle, "ca-bundle", dist.DefaultCABundle, "PEM root certificates for the images")
	def := int64(0)
	if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		def = v
	}
	fs.Int64Var(&s.epoch, "source-date-epoch", def, "commit time in Unix seconds, for image and SBOM timestamps (default $SOURCE_DATE_EPOCH)")
}

func (s *stampFlags) stamp() dist.Stamp { return dist.Stamp{Version: s.version, Commit: s.commit} }

func (s *stampFlags) created() time.Time {
	if s.epoch == 0 {
		return time.Time{}
	}
	return time.Unix(s.epoch, 0).UTC()
}

func repoRoot() (string, error) {
	work, err := findWork()
	if err != nil {
		return "", err
	}
	return filepath.Dir(work), nil
}

func snapshot(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("dist", "dist", "output directory (replaced)")
	var s stampFlags
	s.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.version == "" {
		return errors.New("snapshot: -version is required")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	created := s.created()
	if created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}
	return dist.Snapshot(ctx, dist.Options{Root: root, Dist: *out, Stamp: s.stamp(), Created: created, CABundle: s.caBundle, Log: stderr})
}

func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("dist", "dist", "snapshot directory")
	var s stampFlags
	s.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.version == "" {
		return errors.New("verify: -version is required")
	}
	if err := dist.Verify(ctx, dist.Options{Dist: *out, Stamp: s.stamp()}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verify: %s is a complete %s release: checksums match, binaries carry the version, image indexes list %v, the %s sidecar image serves TLS-verified requests\n",
		*out, s.version, dist.ImagePlatforms, dist.Host)
	return nil
}

func build(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin", "output directory")
	var s stampFlags
	s.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	return dist.BuildHost(ctx, dist.HostOptions{Root: root, Bin: *bin, Stamp: s.stamp(), Log: stderr})
}

func images(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin", "directory of the binaries (fedtoken-release build)")
	out := fs.String("out", "bin/images", "output directory of the tarballs")
	ref := fs.String("ref", "fedtoken.local/%s:e2e", "image reference of each tarball (%s = binary name)")
	var s stampFlags
	s.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return dist.Images(dist.HostOptions{Bin: *bin, Stamp: s.stamp(), CABundle: s.caBundle, Log: stderr}, *out, *ref)
}
