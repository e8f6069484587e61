package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
	"github.com/fedtoken/fedtoken/cli/internal/humantime"
)

type listFlags struct {
	Output string
}

func newListCommand(env *cmd.Env) *cobra.Command {
	f := &listFlags{}
	c := &cobra.Command{
		Use:   "list",
		Short: "Show the cached token of every configured provider",
		Long: `Show, for every provider of the configuration, whether the cache holds a
token, when it expires and whether it has a refresh token. Tokens are
never shown.

STATUS is one of: valid; expiring (inside the expiry skew: the next use
renews it); expired; none (nothing cached).`,
		Example: `  fedtoken cache list
  fedtoken cache list -o json`,
		Args: cmd.Args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			return runList(c.Context(), env, f)
		},
	}
	c.Flags().StringVarP(&f.Output, "output", "o", "text", "output format: text or json")
	return c
}

// entry is one row of cache list.
type entry struct {
	Provider     string `json:"provider"`
	Flow         string `json:"flow"`
	Status       string `json:"status"`
	Expiry       string `json:"expiry,omitempty"`
	RefreshToken bool   `json:"refreshToken"`
	Key          string `json:"key"`

	expiry time.Time
}

type listing struct {
	Dir     string  `json:"dir"`
	Entries []entry `json:"entries"`
}

func runList(ctx context.Context, env *cmd.Env, f *listFlags) error {
	if f.Output != "text" && f.Output != "json" {
		return exitcode.Usagef("--output %q: use text or json", f.Output)
	}
	file, err := env.LoadConfig()
	if err != nil {
		return err
	}
	dir, err := env.StoreDir(file)
	if err != nil {
		return err
	}
	store := env.Store(file)
	now := env.Now()
	l := listing{Dir: dir}
	for _, p := range file.Providers {
		e := entry{Provider: p.ID, Flow: string(p.AuthFlow), Key: provider.CacheKey(p), Status: "none"}
		tok, err := store.Load(ctx, e.Key)
		if err != nil {
			return err
		}
		if tok != nil {
			e.Status = status(p, tok.Expiry, now)
			e.RefreshToken = tok.RefreshToken != ""
			if !tok.Expiry.IsZero() {
				e.expiry = tok.Expiry
				e.Expiry = tok.Expiry.UTC().Format(time.RFC3339)
			}
		}
		l.Entries = append(l.Entries, e)
	}
	if f.Output == "json" {
		enc := json.NewEncoder(env.Streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	return writeText(env.Streams.Out, l, now)
}

func status(p config.Provider, exp, now time.Time) string {
	switch {
	case exp.IsZero():
		return "valid"
	case !now.Before(exp):
		return "expired"
	case exp.Sub(now) <= p.TokenExpirySkew:
		return "expiring"
	}
	return "valid"
}

func writeText(w io.Writer, l listing, now time.Time) error {
	fmt.Fprintf(w, "cache: %s\n", l.Dir)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tFLOW\tSTATUS\tEXPIRES\tREFRESH TOKEN")
	for _, e := range l.Entries {
		exp, rt := "-", "-"
		if e.Status != "none" {
			rt = yesNo(e.RefreshToken)
			if !e.expiry.IsZero() {
				exp = humantime.Time(e.expiry, now)
			} else {
				exp = "never"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Provider, e.Flow, e.Status, exp, rt)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
