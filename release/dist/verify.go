package dist

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fedtoken/fedtoken/release/ociimage"
	"github.com/fedtoken/fedtoken/release/sbom"
)

// Verify checks a snapshot: every file in SHA256SUMS matches and every
// expected file is listed; each binary is for its platform (the header)
// and carries the version (this machine's binaries are run: `version`);
// each SBOM names the binary and our modules at the version; each image
// index lists ImagePlatforms with images holding that platform's binary,
// the CA bundle, a non-root user and the labels; and this machine's
// sidecar image serves TLS-verified requests with its own bundle
// (CheckSidecarTLS). It reports every problem it finds.
func Verify(ctx context.Context, o Options) error {
	dir, st := o.Dist, o.Stamp
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	listed, err := checkSums(dir)
	if err != nil {
		return err
	}
	for _, c := range Commands {
		if !c.Released {
			continue
		}
		for _, p := range c.Platforms(o.platforms()) {
			name := BinaryName(c, p)
			for _, f := range []string{name, name + ".spdx.json"} {
				if !slices.Contains(listed, f) {
					fail("%s: not in %s", f, Checksums)
				}
			}
			if err := checkBinary(ctx, filepath.Join(dir, name), c, p, st); err != nil {
				errs = append(errs, err)
			}
			if err := checkSBOM(filepath.Join(dir, name+".spdx.json"), st); err != nil {
				errs = append(errs, err)
			}
		}
		if err := checkIndex(ctx, dir, c, st, o.imagePlatforms()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkSums verifies SHA256SUMS and returns the files it lists.
func checkSums(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, Checksums))
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	var listed []string
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			errs = append(errs, fmt.Errorf("verify: %s: bad line %q", Checksums, sc.Text()))
			continue
		}
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			errs = append(errs, err)
		} else if got != sum {
			errs = append(errs, fmt.Errorf("verify: %s: sha256 %s, %s says %s", name, got, Checksums, sum))
		}
		listed = append(listed, name)
	}
	if len(listed) == 0 {
		errs = append(errs, fmt.Errorf("verify: %s lists nothing", Checksums))
	}
	return listed, errors.Join(errs...)
}

// checkBinary runs this machine's binaries; others are checked by their
// header and build information.
func checkBinary(ctx context.Context, path string, c Command, p Platform, st Stamp) error {
	name := filepath.Base(path)
	h, err := readHeader(path, p.OS)
	if err != nil {
		return fmt.Errorf("verify: %s: %w", name, err)
	}
	if h.arch != p.Arch {
		return fmt.Errorf("verify: %s: header says %s/%s", name, p.OS, h.arch)
	}
	if !h.stripped {
		return fmt.Errorf("verify: %s: has a symbol table or DWARF (want -ldflags \"-s -w\")", name)
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("verify: %s: %w", name, err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != p.OS || settings["GOARCH"] != p.Arch || settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		return fmt.Errorf("verify: %s: built with GOOS=%s GOARCH=%s CGO_ENABLED=%s -trimpath=%s", name, settings["GOOS"], settings["GOARCH"], settings["CGO_ENABLED"], settings["-trimpath"])
	}
	// -trimpath keeps -ldflags out of the build information; the -X value
	// is in the binary's data.
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if !bytes.Contains(data, []byte(st.Version)) {
		return fmt.Errorf("verify: %s: the version %s is not in the binary", name, st.Version)
	}
	if p != Host {
		return nil
	}
	out, err := exec.CommandContext(ctx, path, c.VersionArg...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("verify: %s %s: %w\n%s", name, strings.Join(c.VersionArg, " "), err, out)
	}
	if want := c.Name + " " + st.Version; !strings.HasPrefix(string(out), want+" ") && !strings.HasPrefix(string(out), want+"\n") {
		return fmt.Errorf("verify: %s %s printed %q, want %q first", name, strings.Join(c.VersionArg, " "), out, want)
	}
	if st.Commit != "" && c.CommitVar != "" && !strings.Contains(string(out), st.Commit) {
		return fmt.Errorf("verify: %s %s printed %q without the commit %s", name, strings.Join(c.VersionArg, " "), out, st.Commit)
	}
	return nil
}

// header is what verify reads from an executable's header.
type header struct {
	arch     string
	stripped bool // no symbol table, no DWARF (-s -w)
}

// readHeader reads an ELF, Mach-O or PE header.
func readHeader(path, goos string) (header, error) {
	switch goos {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			return header{}, err
		}
		defer f.Close()
		arch, err := ociimage.ELFArch(f.Machine)
		_, dwarfErr := f.DWARF()
		return header{arch, f.Section(".symtab") == nil && dwarfErr != nil}, err
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return header{}, err
		}
		defer f.Close()
		_, dwarfErr := f.DWARF()
		// A stripped Go binary keeps only the undefined symbols it imports
		// from libSystem.
		defined := 0
		if f.Symtab != nil {
			for _, s := range f.Symtab.Syms {
				if s.Sect != 0 {
					defined++
				}
			}
		}
		h := header{stripped: defined == 0 && dwarfErr != nil}
		switch f.Cpu {
		case macho.CpuAmd64:
			h.arch = "amd64"
		case macho.CpuArm64:
			h.arch = "arm64"
		default:
			return h, fmt.Errorf("Mach-O cpu %v", f.Cpu)
		}
		return h, nil
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return header{}, err
		}
		defer f.Close()
		_, dwarfErr := f.DWARF()
		h := header{stripped: len(f.Symbols) == 0 && dwarfErr != nil}
		switch f.Machine {
		case pe.IMAGE_FILE_MACHINE_AMD64:
			h.arch = "amd64"
		case pe.IMAGE_FILE_MACHINE_ARM64:
			h.arch = "arm64"
		default:
			return h, fmt.Errorf("PE machine %#x", f.Machine)
		}
		return h, nil
	}
	return header{}, fmt.Errorf("no header check for %s", goos)
}

func checkSBOM(path string, st Stamp) error {
	d, err := sbom.Read(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	core := d.Package("github.com/fedtoken/fedtoken/core")
	if d.Packages[0].VersionInfo != st.Version || core == nil || core.VersionInfo != st.Version {
		return fmt.Errorf("verify: %s: want the binary and github.com/fedtoken/fedtoken/core at %s", filepath.Base(path), st.Version)
	}
	if d.Package("golang.org/x/oauth2") == nil || d.Package("stdlib") == nil {
		return fmt.Errorf("verify: %s: golang.org/x/oauth2 or the Go standard library is missing", filepath.Base(path))
	}
	return nil
}

func checkIndex(ctx context.Context, dir string, c Command, st Stamp, imagePlatforms []Platform) error {
	layout := filepath.Join(dir, "images", c.Name)
	idx, err := ociimage.ReadLayout(layout)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if want, _ := os.ReadFile(layout + ".digest"); strings.TrimSpace(string(want)) != digest.String() {
		return fmt.Errorf("verify: %s: index digest %s, %s.digest says %q", layout, digest, c.Name, want)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var platforms, want []string
	for _, p := range imagePlatforms {
		want = append(want, p.String())
	}
	for _, d := range m.Manifests {
		if d.Platform == nil {
			return fmt.Errorf("verify: %s: a manifest without a platform", layout)
		}
		p := Platform{d.Platform.OS, d.Platform.Architecture}
		platforms = append(platforms, p.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			return fmt.Errorf("verify: %s %s: %w", layout, p, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return fmt.Errorf("verify: %s %s: %w", layout, p, err)
		}
		if cfg.OS != p.OS || cfg.Architecture != p.Arch || cfg.Config.User != ImageUser {
			return fmt.Errorf("verify: %s %s: config says %s/%s user %q", layout, p, cfg.OS, cfg.Architecture, cfg.Config.User)
		}
		for k, v := range Labels(st, cfg.Created.Time) {
			if cfg.Config.Labels[k] != v {
				return fmt.Errorf("verify: %s %s: label %s = %q, want %q", layout, p, k, cfg.Config.Labels[k], v)
			}
		}
		files, err := ociimage.Files(img)
		if err != nil {
			return fmt.Errorf("verify: %s %s: %w", layout, p, err)
		}
		bin, err := os.ReadFile(filepath.Join(dir, BinaryName(c, p)))
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !bytes.Equal(files[c.Name], bin) {
			return fmt.Errorf("verify: %s %s: /%s is not %s", layout, p, c.Name, BinaryName(c, p))
		}
		if !bytes.Contains(files[strings.TrimPrefix(ociimage.CABundlePath, "/")], []byte("BEGIN CERTIFICATE")) {
			return fmt.Errorf("verify: %s %s: no CA bundle at %s", layout, p, ociimage.CABundlePath)
		}
		if c.Name == "fedtoken-sidecar" && p == Host {
			if err := CheckSidecarTLS(ctx, files); err != nil {
				return fmt.Errorf("verify: %s %s: %w", layout, p, err)
			}
		}
	}
	if !slices.Equal(platforms, want) {
		return fmt.Errorf("verify: %s: index lists %v, want %v", layout, platforms, want)
	}
	return nil
}
