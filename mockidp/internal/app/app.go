// Package app is the fedtoken-mockidp command: flags, environment, config
// file, listener, output lines and shutdown.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/mockidp"
)

// Exit codes of Run.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Environment variables that override the config file (flags override
// them).
const (
	EnvConfig    = "FEDTOKEN_MOCKIDP_CONFIG"
	EnvListen    = "FEDTOKEN_MOCKIDP_LISTEN"
	EnvBaseURL   = "FEDTOKEN_MOCKIDP_BASE_URL"
	EnvAdmin     = "FEDTOKEN_MOCKIDP_ADMIN"
	EnvReadyFile = "FEDTOKEN_MOCKIDP_READY_FILE"
	EnvLogLevel  = "FEDTOKEN_MOCKIDP_LOG_LEVEL"
)

const defaultListen = "127.0.0.1:0"

type options struct {
	config    string
	listen    string
	baseURL   string
	admin     bool
	readyFile string
	logLevel  string
	logFormat string
}

// Run runs fedtoken-mockidp with args (without the program name) until ctx
// is done, and returns the exit code. It prints one line per issuer to
// stdout (see docs/mockidp.md) and logs to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, code := parseFlags(args, stderr)
	if code >= 0 {
		return code
	}
	log, err := newLogger(stderr, opts.logLevel, opts.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "fedtoken-mockidp: %v\n", err)
		return ExitUsage
	}
	if err := serve(ctx, opts, stdout, log); err != nil {
		log.Error("fedtoken-mockidp failed", "err", err)
		return ExitError
	}
	return ExitOK
}

func parseFlags(args []string, stderr io.Writer) (*options, int) {
	o := &options{}
	fs := flag.NewFlagSet("fedtoken-mockidp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: fedtoken-mockidp --config FILE [flags]\n\nServes the mockidp test identity provider until SIGINT/SIGTERM.\nPrints \"issuer NAME URL\" lines, then \"ready BASE_URL\" (docs/mockidp.md).\n\nFlags (each also read from the environment variable shown):\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.config, "config", os.Getenv(EnvConfig), "YAML or JSON config `file` ($"+EnvConfig+")")
	fs.StringVar(&o.listen, "listen", os.Getenv(EnvListen), "listen `address` ($"+EnvListen+"; default: config listen, else "+defaultListen+")")
	fs.StringVar(&o.baseURL, "base-url", os.Getenv(EnvBaseURL), "`URL` the issuers are published under ($"+EnvBaseURL+"; default: config baseURL, else http://<listen address>)")
	adminDefault, _ := strconv.ParseBool(os.Getenv(EnvAdmin))
	fs.BoolVar(&o.admin, "admin", adminDefault, "serve the admin API under /admin/ (loopback only!) ($"+EnvAdmin+")")
	fs.StringVar(&o.readyFile, "ready-file", os.Getenv(EnvReadyFile), "write the output lines to this `file` once serving ($"+EnvReadyFile+")")
	fs.StringVar(&o.logLevel, "log-level", envOr(EnvLogLevel, "info"), "log `level`: debug, info, warn, error ($"+EnvLogLevel+")")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ExitOK
		}
		return nil, ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fedtoken-mockidp: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return nil, ExitUsage
	}
	if o.config == "" {
		fmt.Fprintf(stderr, "fedtoken-mockidp: --config FILE is required (examples: mockidp/testdata/*.yaml, docs/mockidp.md)\n")
		return nil, ExitUsage
	}
	return o, -1
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func serve(ctx context.Context, o *options, stdout io.Writer, log *slog.Logger) error {
	cfg, err := mockidp.LoadConfig(o.config)
	if err != nil {
		return err
	}
	listen := firstOf(o.listen, cfg.Listen, defaultListen)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	defer ln.Close()
	base := firstOf(o.baseURL, cfg.BaseURL, "http://"+publishedAddr(ln.Addr()))
	admin := o.admin || cfg.Admin
	cfg.Admin = admin
	opts := []mockidp.Option{mockidp.WithConfig(*cfg)}
	// $FEDTOKEN_SECRETS_DIR: a test run collects what its IdPs issued.
	issued, err := mockidp.IssuedSecretsFromEnv()
	if err != nil {
		return fmt.Errorf("%s: %w", mockidp.SecretsDirEnv, err)
	}
	if issued != nil {
		defer issued.Close()
		opts = append(opts, mockidp.WithIssuedSecrets(issued))
	}
	srv, err := mockidp.New(base, opts...)
	if err != nil {
		return err
	}
	if admin && !isLoopback(ln.Addr()) {
		log.Warn("the admin API has no authentication and is served on a non-loopback address", "listen", ln.Addr().String())
	}
	srv.SetObserver(func(r mockidp.RequestRecord) {
		lv := slog.LevelInfo
		if r.Outcome != "ok" {
			lv = slog.LevelWarn
		}
		log.Log(context.Background(), lv, "request", "issuer", r.Issuer, "endpoint", r.Endpoint, "grant", r.Grant,
			"client", r.ClientID, "status", r.Status, "outcome", r.Outcome, "check", r.Check, "description", r.Description, "fault", r.Fault)
	})

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(runCtx) }()

	lines := outputLines(srv, admin)
	if o.readyFile != "" {
		if err := writeFileAtomic(o.readyFile, []byte(lines)); err != nil {
			return fmt.Errorf("ready file: %w", err)
		}
		defer os.Remove(o.readyFile)
	}
	if _, err := io.WriteString(stdout, lines); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	log.Info("serving", "base_url", srv.BaseURL(), "listen", ln.Addr().String(), "admin", admin)

	var fail error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		fail = fmt.Errorf("serve: %w", err)
	case err := <-runErr:
		if err != nil {
			fail = fmt.Errorf("cluster: %w", err)
		}
	}
	stopRun()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdownCtx)
	log.Info("stopped")
	return fail
}

// outputLines is the machine-readable output: "issuer NAME URL" per
// issuer, "cluster NAME URL", "token PATH" per projected token file,
// "admin URL" when enabled, and "ready BASE_URL" last.
func outputLines(srv *mockidp.Server, admin bool) string {
	var b strings.Builder
	for _, is := range srv.Issuers() {
		fmt.Fprintf(&b, "%s %s %s\n", is.Kind, is.Name, is.URL)
	}
	if c := srv.Cluster(); c != nil {
		for _, f := range c.TokenFiles() {
			fmt.Fprintf(&b, "token %s\n", f)
		}
	}
	if admin {
		fmt.Fprintf(&b, "admin %s/admin/\n", srv.BaseURL())
	}
	fmt.Fprintf(&b, "ready %s\n", srv.BaseURL())
	return b.String()
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// publishedAddr is the listener address with an unspecified IP replaced by
// 127.0.0.1.
func publishedAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
