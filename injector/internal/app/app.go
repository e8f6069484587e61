// Package app is fedtoken-injector's command line: flags, the Kubernetes
// client, the serving certificate and the HTTPS server of the webhook.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fedtoken/fedtoken/injector/inject"
	"github.com/fedtoken/fedtoken/injector/internal/certs"
	"github.com/fedtoken/fedtoken/injector/internal/webhook"
)

// Env is the process environment Run works in.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// buildVersion is set at link time (release/dist).
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// Flags are the command line.
type Flags struct {
	Listen         string
	Kubeconfig     string
	SidecarImage   string
	PullPolicy     string
	ConfigMaps     string
	NativeSidecars string
	CPURequest     string
	MemoryRequest  string
	CPULimit       string
	MemoryLimit    string
	Certs          string
	CertDir        string
	WebhookConfig  string
	Service        string
	Namespace      string
	CertValidity   time.Duration
	Reconcile      time.Duration
}

// Register defines the flags on fs.
func Register(fs *flag.FlagSet, getenv func(string) string) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Listen, "listen", ":8443", "HTTPS listener of the webhook (POST /mutate) and its probes (/healthz, /readyz)")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: the in-cluster ServiceAccount)")
	fs.StringVar(&f.SidecarImage, "sidecar-image", "", "fedtoken-sidecar image injected into pods (required), e.g. ghcr.io/fedtoken/fedtoken-sidecar:v1.2.3")
	fs.StringVar(&f.PullPolicy, "image-pull-policy", "IfNotPresent", "imagePullPolicy of the injected sidecar: Always, IfNotPresent or Never")
	fs.StringVar(&f.ConfigMaps, "config-map", "fedtoken-config", "comma-separated ConfigMap names pods may name in "+inject.AnnotationConfig+"; the first is the default (the chart grants get on exactly these)")
	fs.StringVar(&f.NativeSidecars, "native-sidecars", "auto", "inject a native sidecar: auto (when the API server is 1.29 or later), true or false")
	fs.StringVar(&f.CPURequest, "cpu-request", "10m", "the sidecar's default CPU request (\"\" or 0: none)")
	fs.StringVar(&f.MemoryRequest, "memory-request", "32Mi", "the sidecar's default memory request")
	fs.StringVar(&f.CPULimit, "cpu-limit", "", "the sidecar's default CPU limit")
	fs.StringVar(&f.MemoryLimit, "memory-limit", "64Mi", "the sidecar's default memory limit")
	fs.StringVar(&f.Certs, "certs", "self-managed", "serving certificate: self-managed (generated in memory, caBundle patched into --webhook-config, rotated) or files (tls.crt/tls.key in --cert-dir, e.g. from cert-manager)")
	fs.StringVar(&f.CertDir, "cert-dir", "/etc/fedtoken-injector/tls", "directory of tls.crt and tls.key (--certs files)")
	fs.StringVar(&f.WebhookConfig, "webhook-config", "fedtoken-injector", "name of the MutatingWebhookConfiguration whose caBundle the injector keeps (--certs self-managed)")
	fs.StringVar(&f.Service, "service", "fedtoken-injector", "name of the webhook's Service: the certificate is for <service>.<namespace>.svc")
	fs.StringVar(&f.Namespace, "namespace", getenv("POD_NAMESPACE"), "namespace of the Service (default $POD_NAMESPACE)")
	fs.DurationVar(&f.CertValidity, "cert-validity", 30*24*time.Hour, "lifetime of each self-managed CA and certificate; rotated at two thirds")
	fs.DurationVar(&f.Reconcile, "reconcile-interval", time.Minute, "how often the caBundle is checked and repaired (--certs self-managed)")
	return f
}

// certSource is a serving certificate.
type certSource interface {
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	Ready() bool
}

// Run runs fedtoken-injector until ctx is done.
func Run(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("fedtoken-injector", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	f := Register(fs, env.Getenv)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: fedtoken-injector [flags]\n\nThe mutating admission webhook that adds fedtoken-sidecar to pods annotated\n"+inject.AnnotationInject+": <provider ids> (docs/kubernetes.md#injection).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *showVersion {
		fmt.Fprintln(env.Stdout, "fedtoken-injector", version())
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: fedtoken-injector takes only flags (see --help)", fs.Arg(0))
	}
	defaults, err := f.Defaults()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil))
	cfg, err := f.restConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if defaults.NativeSidecars, err = f.native(client); err != nil {
		return err
	}
	log.Info("fedtoken-injector starting", slog.String("version", version()), slog.String("sidecarImage", defaults.Image),
		slog.Bool("nativeSidecars", defaults.NativeSidecars), slog.String("configMaps", strings.Join(defaults.ConfigMaps, ",")))

	var cs certSource
	var bg func(context.Context) error
	switch f.Certs {
	case "self-managed":
		if f.Namespace == "" {
			return errors.New("--namespace (or $POD_NAMESPACE) is required with --certs self-managed: the certificate names <service>.<namespace>.svc")
		}
		sm := &certs.SelfManaged{
			Client: client, WebhookConfig: f.WebhookConfig, DNSNames: dnsNames(f.Service, f.Namespace),
			Validity: f.CertValidity, Reconcile: f.Reconcile, Log: log, Now: time.Now,
		}
		if err := sm.Start(ctx); err != nil {
			return err
		}
		cs, bg = sm, sm.Run
	case "files":
		fc := &certs.Files{Dir: f.CertDir, CheckEvery: 30 * time.Second, Now: time.Now}
		if err := fc.Load(); err != nil {
			return err
		}
		cs = fc
	default:
		return fmt.Errorf("--certs %q: want self-managed or files", f.Certs)
	}

	h := &webhook.Handler{
		Defaults:   func() inject.Defaults { return defaults },
		ConfigMaps: webhook.KubeConfigMaps{Client: client},
		Events:     webhook.KubeEvents{Client: client, Log: log, Now: time.Now},
		Log:        log,
	}
	return serve(ctx, f.Listen, cs, h, bg, log)
}

func serve(ctx context.Context, addr string, cs certSource, h http.Handler, bg func(context.Context) error, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("/mutate", h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !cs.Ready() {
			http.Error(w, "no serving certificate yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cs.GetCertificate},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	if bg != nil {
		go func() { errc <- bg(ctx) }()
	}
	log.Info("webhook listening", slog.String("addr", ln.Addr().String()))
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shut, cancelShut := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelShut()
	return srv.Shutdown(shut)
}

// Defaults turns the flags into the injection defaults.
func (f *Flags) Defaults() (inject.Defaults, error) {
	if f.SidecarImage == "" {
		return inject.Defaults{}, errors.New("--sidecar-image is required: the fedtoken-sidecar image to inject")
	}
	d := inject.Defaults{Image: f.SidecarImage, PullPolicy: corev1.PullPolicy(f.PullPolicy)}
	switch d.PullPolicy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return d, fmt.Errorf("--image-pull-policy %q: want Always, IfNotPresent or Never", f.PullPolicy)
	}
	for _, n := range strings.Split(f.ConfigMaps, ",") {
		if n = strings.TrimSpace(n); n != "" {
			d.ConfigMaps = append(d.ConfigMaps, n)
		}
	}
	d.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, r := range []struct {
		flag, v string
		list    corev1.ResourceList
		name    corev1.ResourceName
	}{
		{"--cpu-request", f.CPURequest, d.Resources.Requests, corev1.ResourceCPU},
		{"--memory-request", f.MemoryRequest, d.Resources.Requests, corev1.ResourceMemory},
		{"--cpu-limit", f.CPULimit, d.Resources.Limits, corev1.ResourceCPU},
		{"--memory-limit", f.MemoryLimit, d.Resources.Limits, corev1.ResourceMemory},
	} {
		if r.v == "" {
			continue
		}
		q, err := resource.ParseQuantity(r.v)
		if err != nil {
			return d, fmt.Errorf("%s %q: not a quantity (e.g. 10m, 64Mi)", r.flag, r.v)
		}
		if !q.IsZero() {
			r.list[r.name] = q
		}
	}
	return d, nil
}

func (f *Flags) restConfig() (*rest.Config, error) {
	if f.Kubeconfig != "" {
		c, err := clientcmd.BuildConfigFromFlags("", f.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", f.Kubeconfig, err)
		}
		return c, nil
	}
	c, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("not in a pod (%w): pass --kubeconfig", err)
	}
	return c, nil
}

// native decides whether to inject native sidecars.
func (f *Flags) native(client kubernetes.Interface) (bool, error) {
	switch f.NativeSidecars {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto":
	default:
		return false, fmt.Errorf("--native-sidecars %q: want auto, true or false", f.NativeSidecars)
	}
	v, err := client.Discovery().ServerVersion()
	if err != nil {
		return false, fmt.Errorf("read the API server's version (--native-sidecars auto): %w", err)
	}
	return SupportsNativeSidecars(v.Major, v.Minor)
}

// SupportsNativeSidecars reports whether a server version has native
// sidecars on by default (1.29 and later). Minor may carry a "+" suffix
// (managed distributions).
func SupportsNativeSidecars(major, minor string) (bool, error) {
	ma, err1 := strconv.Atoi(strings.TrimRight(major, "+"))
	mi, err2 := strconv.Atoi(strings.TrimRight(minor, "+"))
	if err1 != nil || err2 != nil {
		return false, fmt.Errorf("API server version %q.%q is not numeric: set --native-sidecars true or false", major, minor)
	}
	return ma > 1 || ma == 1 && mi >= 29, nil
}

func dnsNames(svc, ns string) []string {
	return []string{svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local", svc + "." + ns, svc}
}

// Main is the program: main calls it and exits with its status.
func Main() int {
	ctx, stop := signalContext()
	defer stop()
	if err := Run(ctx, Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fedtoken-injector:", err)
		return 1
	}
	return 0
}
