// Package app is fedtoken-sidecar's command line: it reads the config
// file, the "sidecar" section, the environment and the flags, builds one
// core provider per served provider and runs the server.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/sidecar/internal/logging"
	"github.com/fedtoken/fedtoken/sidecar/internal/metrics"
	"github.com/fedtoken/fedtoken/sidecar/internal/server"
	"github.com/fedtoken/fedtoken/sidecar/internal/settings"
)

// Env is the process environment Run works in.
type Env struct {
	// Stdout receives --version; Stderr the usage and the JSON log.
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv in main).
	Getenv func(string) string
}

// Run runs fedtoken-sidecar with args (without the program name) until
// ctx is done or the sidecar is told to quit. It returns nil after a
// graceful stop and after --help / --version.
func Run(ctx context.Context, env Env, args []string) error {
	srv, logger, err := Build(env, args)
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errVersion) {
		return nil
	}
	if err != nil {
		return err
	}
	logger.Info("fedtoken-sidecar starting", slog.String("version", version()))
	return srv.Run(ctx)
}

// errVersion is returned by Build after --version has printed the version.
var errVersion = errors.New("version printed")

// Build parses the flags, environment and config file and returns a server
// ready to Run and the logger it logs to. It opens no listener and makes
// no request. After --help it returns flag.ErrHelp; after --version an
// error that Run treats as success.
func Build(env Env, args []string) (*server.Server, *slog.Logger, error) {
	fs := flag.NewFlagSet("fedtoken-sidecar", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	overrides := settings.Register(fs)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { usage(env.Stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if *showVersion {
		fmt.Fprintln(env.Stdout, "fedtoken-sidecar", version())
		return nil, nil, errVersion
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q: fedtoken-sidecar takes only flags (see --help)", fs.Arg(0))
	}

	path, err := overrides.ConfigPath(env.Getenv)
	if err != nil {
		return nil, nil, err
	}
	file, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := settings.Parse(file.Sidecar)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", path, err)
	}
	if file.LogLevel != "" {
		// opencode.json's pluginConfig.oauth2ModelSync.logLevel; the
		// environment and flags still win.
		s.LogLevel = file.LogLevel
	}
	if err := overrides.Apply(s, env.Getenv); err != nil {
		return nil, nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	level, _ := logging.ParseLevel(s.LogLevel) // checked by Validate
	logger := logging.New(env.Stderr, level)
	if !loopbackOnly(s.AdminAddr) {
		logger.Warn("the admin listener is not loopback-only: the token endpoint and /quitquitquit are reachable from outside the pod",
			slog.String("adminAddr", s.AdminAddr))
	}
	for _, w := range file.Warnings {
		logger.Warn("config: "+w, slog.String("config", path))
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := metrics.New(reg)
	if err != nil {
		return nil, nil, err
	}
	providers, err := wire(file, s, m, logger)
	if err != nil {
		return nil, nil, err
	}
	var tasks []server.Option
	if s.OpencodeConfig != nil {
		t, err := opencodeTask(file, s, logger, providers)
		if err != nil {
			return nil, nil, err
		}
		tasks = append(tasks, server.WithTask(t))
	}
	srv, err := server.New(providers, append(tasks,
		server.WithAdminAddr(s.AdminAddr),
		server.WithHealthAddr(s.HealthAddr),
		server.WithTokenEndpoint(s.TokenEndpoint),
		server.WithAllowedHosts(s.AllowedHosts),
		server.WithLogger(logger),
		server.WithMetrics(m),
		server.WithQuitFile(s.QuitFile),
		server.WithShutdownTimeout(s.ShutdownTimeout.D()),
		server.WithShutdownDelay(s.ShutdownDelay.D()),
	)...)
	if err != nil {
		return nil, nil, err
	}
	return srv, logger, nil
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `fedtoken-sidecar keeps OAuth access tokens fresh for the other containers of
a pod and hands them out: an auth-injecting reverse proxy per provider, a token
endpoint (GET /v1/token/{provider} with header Fedtoken-Request: true) and token
files. Settings: the config file's "sidecar" section, overridden by the
environment variables below, overridden by the flags. See docs/sidecar.md.

Usage: fedtoken-sidecar [flags]

`)
	fs.PrintDefaults()
}

// buildVersion is set by release builds (docs/releasing.md):
//
//	-ldflags "-X github.com/fedtoken/fedtoken/sidecar/internal/app.buildVersion=v1.2.3"
var buildVersion = ""

// version is buildVersion, else the module version stamped by the Go
// toolchain (go install …@v1.2.3), else "devel".
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// loopbackOnly reports whether addr ("" means disabled) listens on a
// loopback address only.
func loopbackOnly(addr string) bool {
	if addr == "" {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// quoteIDs formats provider ids for messages.
func quoteIDs(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
