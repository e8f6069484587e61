// Package cli implements the fedtoken-release command.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fedtoken/fedtoken/release/modproxy"
)

const usage = `fedtoken-release — release tooling of the fedtoken workspace (docs/releasing.md)

  fedtoken-release each [-write] -- CMD ARGS…
      run CMD in every module of go.work with GOWORK=off, our own modules
      resolved from a file proxy of the working tree (no replace directives
      needed). Without -write the module is used exactly as committed
      (-mod=readonly, a copy of go.mod/go.sum); with -write CMD may change
      go.mod/go.sum (go mod tidy) and our modules' lines are kept out of go.sum.
  fedtoken-release prepare -version vX.Y.Z
      set every requirement on our own modules (go.mod) and every go.work
      replacement of one to vX.Y.Z: the commit the release tags point at
  fedtoken-release push -dist DIR -repo REGISTRY/OWNER -version vX.Y.Z
      push the snapshot's image indexes to REGISTRY/OWNER/<name>:vX.Y.Z
      (credentials from the Docker config); prints name@digest per image
  fedtoken-release proxy -out DIR [-version vX.Y.Z]
      write the file proxy of the working tree into DIR (see modproxy.Write)
  fedtoken-release build -bin DIR [-version V -commit C]
      build every command for this machine into DIR (make build)
  fedtoken-release images -bin DIR -out DIR [-ref FORMAT -ca-bundle PEM]
      pack them into image tarballs tagged fedtoken.local/<name>:e2e (make images)
  fedtoken-release snapshot -dist DIR -version vX.Y.Z [flags]
      build the release into DIR: binaries, checksums, SBOMs, image indexes
  fedtoken-release verify -dist DIR -version vX.Y.Z
      check a snapshot: checksums, versions, platforms, SBOMs
`

// Run runs the command line args.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a subcommand is required")
	}
	switch args[0] {
	case "each":
		return each(ctx, args[1:], stdout, stderr)
	case "proxy":
		return proxy(args[1:], stdout, stderr)
	case "prepare":
		return prepare(args[1:], stderr)
	case "push":
		return push(ctx, args[1:], stdout, stderr)
	case "build":
		return build(ctx, args[1:], stderr)
	case "images":
		return images(args[1:], stderr)
	case "snapshot":
		return snapshot(ctx, args[1:], stderr)
	case "verify":
		return verify(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// findWork returns the go.work above the current directory.
func findWork() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "go.work")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work in this directory or above: run it inside the fedtoken repository")
		}
		dir = parent
	}
}

func each(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("each", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("write", false, "let CMD write go.mod/go.sum (go mod tidy); our modules' go.sum lines are removed afterwards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmdline := fs.Args()
	if len(cmdline) == 0 {
		return errors.New("each: a command is required after --")
	}
	work, err := findWork()
	if err != nil {
		return err
	}
	s, err := modproxy.Start(work, "", true)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, m := range s.Modules {
		rel, _ := filepath.Rel(filepath.Dir(work), m.Dir)
		fmt.Fprintf(stderr, "each: %s: GOWORK=off %s\n", rel, strings.Join(cmdline, " "))
		var flags []string
		if !*write {
			modFile, err := s.ModFile(m)
			if err != nil {
				return err
			}
			flags = []string{"-mod=readonly", "-modfile=" + modFile}
		}
		c := exec.CommandContext(ctx, cmdline[0], cmdline[1:]...)
		c.Dir, c.Stdout, c.Stderr = m.Dir, stdout, stderr
		c.Env = s.Env(os.Environ(), flags...)
		if err := c.Run(); err != nil {
			return fmt.Errorf("each: %s: %s: %w", rel, strings.Join(cmdline, " "), err)
		}
		if *write {
			if err := s.StripSums(m); err != nil {
				return err
			}
		}
	}
	return nil
}

func proxy(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the proxy into (required)")
	version := fs.String("version", "", "publish every module at this pretend version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("proxy: -out is required")
	}
	work, err := findWork()
	if err != nil {
		return err
	}
	s, err := modproxy.Start(work, *version, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := os.CopyFS(*out, os.DirFS(s.Proxy)); err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	for _, line := range s.Published.Sums {
		fmt.Fprintln(stdout, line)
	}
	return nil
}

func prepare(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "the release version, e.g. v1.2.3 (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" {
		return errors.New("prepare: -version is required")
	}
	work, err := findWork()
	if err != nil {
		return err
	}
	return modproxy.Prepare(work, *version)
}
