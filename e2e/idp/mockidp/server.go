//go:build e2e

package mockidp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/e2e/internal/ctr"
	"github.com/fedtoken/fedtoken/e2e/internal/proc"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Options configure a mockidp server.
type Options struct {
	Binary  string // fedtoken-mockidp (bin/ of `make build`)
	Host    string // listen address; default 127.0.0.1
	Params  Params // BaseURL and ListenAddr are filled in by Start
	WorkDir string // mockidp-config.yaml, mockidp.log and the ready file go here
	// Container, when set, runs mockidp as a container on that network,
	// published on Host (kind backend); Binary is then unused.
	Container *ctr.Placement
	// Mounts are host directories the container needs (the cluster CA's).
	Mounts []string
}

// Server is a running fedtoken-mockidp.
type Server struct {
	p       ctr.Runner
	base    string
	issuers map[string]string
	params  Params
	keyFile string
}

// KeyClientKeyFile is the PEM private key (P-256) of KeyClientID: what a
// jwt_bearer_key provider's assertion.privateKeyFile names.
func (s *Server) KeyClientKeyFile() string { return s.keyFile }

// writeKeyClientKeys writes a fresh P-256 key pair for KeyClientID into
// dir: the private key (0600) at the returned path, the public key beside
// it with the suffix .pub.
func writeKeyClientKeys(dir string) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, KeyClientID+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// Start writes the configuration and runs fedtoken-mockidp, waiting for its
// ready file (written once every issuer is served) and checking that it
// announces exactly the configured issuers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(o.Host, "0"))
	if err != nil {
		return nil, fmt.Errorf("mockidp: free port: %w", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	p := o.Params
	p.ListenAddr = addr
	p.BaseURL = "http://" + addr
	if o.Container != nil {
		p.ListenAddr = net.JoinHostPort("0.0.0.0", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	keyFile, err := writeKeyClientKeys(o.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	p.KeyClientPublicKey = keyFile + ".pub"
	cfgPath := filepath.Join(o.WorkDir, "mockidp-config.yaml")
	if err := os.WriteFile(cfgPath, []byte(Config(p)), 0o600); err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	ready := filepath.Join(o.WorkDir, "mockidp.ready")
	_ = os.Remove(ready)
	args := []string{"--config", cfgPath, "--ready-file", ready, "--log-format", "json", "--log-level", "debug"}
	logPath := filepath.Join(o.WorkDir, "mockidp.log")
	var pr ctr.Runner
	if o.Container != nil {
		pr, err = ctr.Start(ctx, ctr.Spec{
			Name: "mockidp", Image: o.Container.Image, Network: o.Container.Network, Cmd: args,
			HostIP: o.Host, Port: l.Addr().(*net.TCPAddr).Port, Mounts: append([]string{o.WorkDir}, o.Mounts...),
			LogPath: logPath, User: "0:0",
		})
	} else {
		pr, err = proc.Start(proc.Spec{Name: "mockidp", Path: o.Binary, Args: args, LogPath: logPath})
	}
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	s := &Server{p: pr, base: p.BaseURL, issuers: map[string]string{}, params: p, keyFile: keyFile}
	err = wait.Until(ctx, "mockidp ready file "+ready, 30*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		if err := pr.Alive(); err != nil {
			return false, err
		}
		data, err := os.ReadFile(ready)
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "issuer" {
				s.issuers[f[1]] = f[2]
			}
			if len(f) == 2 && f[0] == "ready" {
				return true, nil
			}
		}
		return false, wait.NotYet("no ready line in %q", data)
	})
	if err == nil {
		for _, name := range append(slices.Clone(Issuers), Discovery) {
			if got := s.issuers[name]; got != IssuerURL(p.BaseURL, name) {
				err = fmt.Errorf("mockidp announced issuer %s at %q, want %q", name, got, IssuerURL(p.BaseURL, name))
			}
		}
	}
	if err != nil {
		_ = pr.Stop(5 * time.Second)
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	return s, nil
}

// BaseURL is where the issuers are published.
func (s *Server) BaseURL() string { return s.base }

// Issuer is the URL of issuer name (Prod, Staging).
func (s *Server) Issuer(name string) string { return s.issuers[name] }

// TokenEndpoint is issuer name's token endpoint.
func (s *Server) TokenEndpoint(name string) string { return s.issuers[name] + "/token" }

// Params are the values the running configuration was rendered with.
func (s *Server) Params() Params { return s.params }

// LogPath is the server's log file (JSON lines on stderr, the ready lines).
func (s *Server) LogPath() string { return s.p.LogPath() }

// Stop stops the server.
func (s *Server) Stop() error { return s.p.Stop(10 * time.Second) }

// Request is one "request" line of mockidp's log: what it answered and,
// for a rejection, which check failed and why. It never holds a token.
type Request struct {
	Time        time.Time `json:"time"`
	Issuer      string    `json:"issuer"`
	Endpoint    string    `json:"endpoint"`
	Grant       string    `json:"grant"`
	Client      string    `json:"client"`
	Status      int       `json:"status"`
	Outcome     string    `json:"outcome"`
	Check       string    `json:"check"`
	Description string    `json:"description"`
}

// Requests reads the request log so far, oldest first.
func (s *Server) Requests() ([]Request, error) {
	// A container's output reaches the log file a moment later.
	data, err := ctr.ReadLog(context.Background(), s.p)
	if err != nil {
		return nil, err
	}
	var out []Request
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r struct {
			Msg string `json:"msg"`
			Request
		}
		if json.Unmarshal(line, &r) == nil && r.Msg == "request" {
			out = append(out, r.Request)
		}
	}
	return out, sc.Err()
}
