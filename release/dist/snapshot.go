package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fedtoken/fedtoken/release/ociimage"
	"github.com/fedtoken/fedtoken/release/sbom"
)

// DefaultCABundle is Debian's bundle (package ca-certificates), the one the
// images carry.
const DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

// Checksums is the checksum file of a snapshot (sha256sum format).
const Checksums = "SHA256SUMS"

// Options of a snapshot.
type Options struct {
	Root     string    // the repository
	Dist     string    // output directory (replaced)
	Stamp    Stamp     // version and commit
	Created  time.Time // commit time: image and SBOM timestamps
	CABundle string    // PEM bundle for the images
	Log      io.Writer
	// Platforms of the binaries and of the images (nil: ReleasePlatforms,
	// ImagePlatforms); every image platform must be a binary platform.
	Platforms, ImagePlatforms []Platform
}

func (o Options) platforms() []Platform {
	if o.Platforms == nil {
		return ReleasePlatforms
	}
	return o.Platforms
}

func (o Options) imagePlatforms() []Platform {
	if o.ImagePlatforms == nil {
		return ImagePlatforms
	}
	return o.ImagePlatforms
}

// Snapshot builds the release into o.Dist:
//
//	<name>-<os>-<arch>[.exe]             binaries of every released command × ReleasePlatforms
//	<binary>.spdx.json                   their SBOMs
//	images/<name>/                       OCI layout: an index over ImagePlatforms
//	images/<name>.spdx.json              the image's SBOM (binary + CA bundle)
//	images/<name>.digest                 the index digest
//	SHA256SUMS                           every file above except the layouts
func Snapshot(ctx context.Context, o Options) error {
	if o.Stamp.Version == "" {
		return errors.New("dist: a version is required")
	}
	if err := os.RemoveAll(o.Dist); err != nil {
		return fmt.Errorf("dist: %w", err)
	}
	bundle, err := os.ReadFile(o.CABundle)
	if err != nil {
		return fmt.Errorf("dist: CA bundle: %w (install Debian's ca-certificates, or pass another bundle)", err)
	}
	sopts := sbom.Options{Version: o.Stamp.Version, Ours: "github.com/fedtoken/fedtoken/", License: License, Source: Source, Created: o.Created}
	var sums []string
	for _, c := range Commands {
		if !c.Released {
			continue
		}
		for _, p := range c.Platforms(o.platforms()) {
			out := filepath.Join(o.Dist, BinaryName(c, p))
			fmt.Fprintf(o.Log, "dist: build %s\n", filepath.Base(out))
			if err := Build(ctx, o.Root, c, p, o.Stamp, out); err != nil {
				return err
			}
			doc, err := sbom.ForBinary(out, sopts)
			if err != nil {
				return err
			}
			if err := doc.Write(out + ".spdx.json"); err != nil {
				return err
			}
			sums = append(sums, filepath.Base(out), filepath.Base(out)+".spdx.json")
		}
		var imgs []v1.Image
		for _, p := range o.imagePlatforms() {
			img, err := ociimage.Image(ociimage.Options{
				Binary: filepath.Join(o.Dist, BinaryName(c, p)), Name: c.Name, Arch: p.Arch, User: ImageUser,
				CABundle: o.CABundle, Env: c.ImageEnv, Labels: Labels(o.Stamp, o.Created), Created: o.Created,
			})
			if err != nil {
				return err
			}
			imgs = append(imgs, img)
		}
		idx, err := ociimage.Index(imgs)
		if err != nil {
			return err
		}
		layout := filepath.Join(o.Dist, "images", c.Name)
		fmt.Fprintf(o.Log, "dist: image index %s\n", layout)
		if err := ociimage.WriteLayout(layout, idx); err != nil {
			return err
		}
		digest, err := idx.Digest()
		if err != nil {
			return fmt.Errorf("dist: %w", err)
		}
		if err := os.WriteFile(layout+".digest", []byte(digest.String()+"\n"), 0o644); err != nil {
			return fmt.Errorf("dist: %w", err)
		}
		// The image SBOM: the linux/amd64 binary's modules plus the CA bundle.
		doc, err := sbom.ForBinary(filepath.Join(o.Dist, BinaryName(c, o.imagePlatforms()[0])), sopts)
		if err != nil {
			return err
		}
		doc.Name = c.Name + " image"
		doc.AddFile("ca-certificates", "ca-certificates", "", bundle, "root certificates at "+ociimage.CABundlePath)
		if err := doc.Write(layout + ".spdx.json"); err != nil {
			return err
		}
		sums = append(sums, filepath.Join("images", c.Name+".spdx.json"), filepath.Join("images", c.Name+".digest"))
	}
	return writeChecksums(o.Dist, sums)
}

// Labels are the OCI labels of every image.
func Labels(st Stamp, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.version":  st.Version,
		"org.opencontainers.image.licenses": License,
		"org.opencontainers.image.vendor":   "fedtoken",
	}
	if st.Commit != "" {
		l["org.opencontainers.image.revision"] = st.Commit
	}
	if !created.IsZero() {
		l["org.opencontainers.image.created"] = created.UTC().Format(time.RFC3339)
	}
	return l
}

func writeChecksums(dir string, files []string) error {
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		sum, err := fileSHA256(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, filepath.ToSlash(f))
	}
	if err := os.WriteFile(filepath.Join(dir, Checksums), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("dist: %w", err)
	}
	return nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("dist: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("dist: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HostOptions of BuildHost and Images.
type HostOptions struct {
	Root     string
	Bin      string // directory of the binaries
	Stamp    Stamp
	CABundle string
	Log      io.Writer
}

// BuildHost builds every command for this machine into o.Bin (`make build`).
func BuildHost(ctx context.Context, o HostOptions) error {
	for _, c := range Commands {
		fmt.Fprintf(o.Log, "go build %s/%s -> %s\n", c.Module, strings.TrimPrefix(c.Package, "./"), filepath.Join(o.Bin, c.Name))
		if err := Build(ctx, o.Root, c, Host, o.Stamp, filepath.Join(o.Bin, c.Name)); err != nil {
			return err
		}
	}
	return nil
}

// Images packs the binaries of BuildHost into image tarballs (`make
// images`, for the e2e): out/<name>.tar tagged fmt.Sprintf(refFormat, name).
func Images(o HostOptions, out, refFormat string) error {
	for _, c := range Commands {
		tar := filepath.Join(out, c.Name+".tar")
		ref := fmt.Sprintf(refFormat, c.Name)
		err := ociimage.Build(ociimage.Options{
			Binary: filepath.Join(o.Bin, c.Name), Ref: ref, Out: tar, User: ImageUser,
			CABundle: o.CABundle, Env: c.ImageEnv, Labels: Labels(o.Stamp, time.Time{}),
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Log, "images: %s (%s)\n", tar, ref)
	}
	return nil
}
