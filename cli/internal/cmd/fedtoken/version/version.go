// Package version implements `fedtoken version`.
package version

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// Set at build time:
//
//	go build -ldflags "-X github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/version.version=v1.2.3 \
//	                   -X github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/version.commit=abc1234"
var (
	version = ""
	commit  = ""
)

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information: the ldflags values, else what the
// Go toolchain recorded (module version, VCS revision).
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && i.Commit == "" {
				i.Commit = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

type flags struct {
	Output string
}

// NewCommand returns the version command.
func NewCommand(env *cmd.Env) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:     "version",
		Short:   "Print the version of fedtoken",
		Example: "  fedtoken version\n  fedtoken version -o json",
		Args:    cmd.Args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			i := Get()
			switch f.Output {
			case "text":
				s := "fedtoken " + i.Version
				if i.Commit != "" {
					s += " (" + i.Commit + ")"
				}
				_, err := fmt.Fprintf(env.Streams.Out, "%s %s %s\n", s, i.GoVersion, i.Platform)
				return err
			case "json":
				enc := json.NewEncoder(env.Streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(i)
			}
			return exitcode.Usagef("--output %q: use text or json", f.Output)
		},
	}
	c.Flags().StringVarP(&f.Output, "output", "o", "text", "output format: text or json")
	return c
}
