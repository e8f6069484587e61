//go:build e2e

package dex

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fedtoken/fedtoken/e2e/internal/ctr"
	"github.com/fedtoken/fedtoken/e2e/internal/proc"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Options configure a Dex server.
type Options struct {
	Binary       string // the dex binary
	Host         string // listen address; default 127.0.0.1
	K8sIssuer    string
	K8sCAFile    string
	ClientSecret string
	WorkDir      string // config.yaml and dex.log go here
	// Container, when set, runs Dex as a container on that network,
	// published on Host (kind backend); Binary is then unused.
	Container *ctr.Placement
	// Mounts are host directories the container needs (the cluster CA's).
	Mounts []string
}

// Server is a running Dex.
type Server struct {
	p      ctr.Runner
	issuer string
}

// Start writes the configuration and runs `dex serve`, waiting for its
// discovery document. Dex opens its connectors at startup, so the
// Kubernetes issuer must already answer.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(o.Host, "0"))
	if err != nil {
		return nil, fmt.Errorf("dex: free port: %w", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	issuer := "http://" + addr + "/dex"
	cfgPath := filepath.Join(o.WorkDir, "dex-config.yaml")
	port := l.Addr().(*net.TCPAddr).Port
	listen := addr
	if o.Container != nil {
		listen = net.JoinHostPort("0.0.0.0", strconv.Itoa(port))
	}
	cfg := Config(Params{Issuer: issuer, ListenAddr: listen, K8sIssuer: o.K8sIssuer, K8sCAFile: o.K8sCAFile, ClientSecret: o.ClientSecret})
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("dex: %w", err)
	}
	logPath := filepath.Join(o.WorkDir, "dex.log")
	var p ctr.Runner
	if o.Container != nil {
		p, err = ctr.Start(ctx, ctr.Spec{
			Name: "dex", Image: o.Container.Image, Network: o.Container.Network,
			// "dex" on PATH: /dex in the image built here, /usr/local/bin/dex in the official one.
			Entrypoint: []string{"dex"}, Cmd: []string{"serve", cfgPath},
			HostIP: o.Host, Port: port, Mounts: append([]string{o.WorkDir}, o.Mounts...), LogPath: logPath, User: "0:0",
		})
	} else {
		p, err = proc.Start(proc.Spec{Name: "dex", Path: o.Binary, Args: []string{"serve", cfgPath}, LogPath: logPath})
	}
	if err != nil {
		return nil, fmt.Errorf("dex: %w", err)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	disc := issuer + "/.well-known/openid-configuration"
	err = wait.Until(ctx, "dex "+disc, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := p.Alive(); err != nil {
			return false, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, disc, nil)
		resp, err := client.Do(req)
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, wait.NotYet("HTTP %d", resp.StatusCode)
		}
		return true, nil
	})
	if err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, fmt.Errorf("dex: %w", err)
	}
	return &Server{p: p, issuer: issuer}, nil
}

// Issuer is Dex's issuer URL.
func (s *Server) Issuer() string { return s.issuer }

// TokenEndpoint is Dex's token endpoint.
func (s *Server) TokenEndpoint() string { return s.issuer + "/token" }

// LogPath is the server's log file.
func (s *Server) LogPath() string { return s.p.LogPath() }

// Stop stops the server.
func (s *Server) Stop() error { return s.p.Stop(10 * time.Second) }
