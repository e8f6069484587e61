// Package cmd holds what every fedtoken command shares: the I/O streams,
// the environment a command reads (Env), and the global flags. The
// commands themselves live in the packages under cmd/fedtoken, one
// NewCommand per command, kind-style.
package cmd

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/redact"
)

// IOStreams are a command's standard streams. Out carries only the
// output that was asked for (a token, a JSON document); everything meant
// for a person — progress, prompts, diagnostics, logs — goes to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// StandardStreams returns the process's stdin, stdout and stderr.
func StandardStreams() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// GlobalFlags are the flags every command accepts.
type GlobalFlags struct {
	// Config is --config: the configuration file.
	Config string
	// CacheDir is --cache-dir: the token cache directory.
	CacheDir string
	// Verbose is -v, counted: 0 warnings, 1 info, 2 debug.
	Verbose int
}

// Env is everything a command takes from its surroundings. NewEnv fills
// it from the process; tests replace what they need.
type Env struct {
	Streams IOStreams
	// ChildRunning is true while `fedtoken exec` waits for its child, which
	// receives the signals; Main then waits for it instead of giving up.
	ChildRunning atomic.Bool
	// Flags are the global flags, set by the root command before a
	// command runs.
	Flags GlobalFlags
	// Level is the logger's level, set from -v.
	Level *slog.LevelVar
	// Logger writes diagnostics to Streams.ErrOut; NewEnv's removes
	// credentials from every line (core/redact).
	Logger *slog.Logger
	// Getenv reads the environment.
	Getenv func(string) string
	// Environ lists the environment (for exec's child).
	Environ func() []string
	// Now is the clock.
	Now func() time.Time
	// Terminal reports whether a person is at a terminal: stdin and
	// stderr are terminals. Interactive also requires CI to be unset.
	Terminal func() bool
	// OpenBrowser opens a URL in the user's browser.
	OpenBrowser func(ctx context.Context, url string) error
	// ProviderOptions are added to the options of every provider the
	// commands open (none in a real run; tests add
	// providertest.WithClock to drive the providers' time with Now).
	ProviderOptions []provider.Option
}

// NewEnv returns the Env of this process, writing to streams.
func NewEnv(streams IOStreams) *Env {
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	return &Env{
		Streams:     streams,
		Level:       level,
		Logger:      slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: level, ReplaceAttr: redact.ReplaceAttr})),
		Getenv:      os.Getenv,
		Environ:     os.Environ,
		Now:         time.Now,
		Terminal:    func() bool { return isTerminal(streams.In) && isTerminal(streams.ErrOut) },
		OpenBrowser: openBrowser,
	}
}

// Interactive reports whether this run may prompt a person or open a
// browser: a terminal is attached and CI is not set to a true value
// (CronJobs and CI runners set CI=true; the seed's CronJob does).
func (e *Env) Interactive() bool {
	if isTrue(e.Getenv("CI")) {
		return false
	}
	return e.Terminal != nil && e.Terminal()
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// SetVerbosity sets the log level from a -v count.
func (e *Env) SetVerbosity(v int) {
	switch {
	case v <= 0:
		e.Level.Set(slog.LevelWarn)
	case v == 1:
		e.Level.Set(slog.LevelInfo)
	default:
		e.Level.Set(slog.LevelDebug)
	}
}

// isTerminal reports whether s is a character device (a terminal).
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
