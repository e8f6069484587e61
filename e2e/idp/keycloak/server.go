//go:build e2e

package keycloak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/e2e/internal/ctr"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
	"github.com/fedtoken/fedtoken/e2e/internal/proc"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Options configure a Keycloak server.
type Options struct {
	Home       string   // unpacked keycloak-quarkus-dist (bin/kc.sh)
	Host       string   // listen address; default 127.0.0.1
	Port       int      // 0 = a free port
	TrustFiles []string // PEM files added to Keycloak's truststore (the cluster CA)
	LogDir     string   // keycloak.log goes here
	// StartTimeout bounds start-dev; the first start on a new machine
	// augments the distribution (minutes on 2 busy cores).
	StartTimeout time.Duration
	// Container, when set, runs Keycloak as a container on that network,
	// published on Host (kind backend); Home is then unused.
	Container *ctr.Placement
}

// Admin credentials of the throwaway master realm.
const (
	AdminUser     = "admin"
	AdminPassword = "e2e-admin-password"
)

// Server is a running Keycloak.
type Server struct {
	o    Options
	p    ctr.Runner
	base string
	http *http.Client
}

// Start runs `kc.sh start-dev` with an in-memory database and waits until the
// master realm's discovery document answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	issued.Record(AdminPassword)
	if o.StartTimeout == 0 {
		o.StartTimeout = 8 * time.Minute
	}
	if o.Port == 0 {
		port, err := freePort(o.Host)
		if err != nil {
			return nil, err
		}
		o.Port = port
	}
	mgmt, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	base := BaseURL(o.Host, o.Port)
	httpHost := o.Host
	if o.Container != nil {
		httpHost = "0.0.0.0"
	}
	args := []string{"start-dev",
		"--db=dev-mem",
		"--http-host=" + httpHost,
		"--http-port=" + strconv.Itoa(o.Port),
		"--http-management-port=" + strconv.Itoa(mgmt),
		"--hostname=" + base,
		// org.keycloak.events:debug logs successful events too: the rotation
		// suite reads which client_assertion (service-account jti) each
		// client_credentials login used.
		"--log-level=info,org.keycloak.events:debug,org.keycloak.authentication:debug,org.keycloak.protocol.oidc.grants:debug",
	}
	env := []string{
		"KC_BOOTSTRAP_ADMIN_USERNAME=" + AdminUser,
		"KC_BOOTSTRAP_ADMIN_PASSWORD=" + AdminPassword,
		"JAVA_OPTS_APPEND=-XX:TieredStopAtLevel=1 -Xshare:auto",
	}
	if len(o.TrustFiles) > 0 {
		env = append(env, "KC_TRUSTSTORE_PATHS="+strings.Join(o.TrustFiles, ","))
	}
	logPath := filepath.Join(o.LogDir, "keycloak.log")
	var p ctr.Runner
	if o.Container != nil {
		envMap := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			envMap[k] = v
		}
		var mounts []string
		for _, f := range o.TrustFiles {
			mounts = append(mounts, filepath.Dir(f))
		}
		p, err = ctr.Start(ctx, ctr.Spec{
			Name: "keycloak", Image: o.Container.Image, Network: o.Container.Network, Cmd: args, Env: envMap,
			HostIP: o.Host, Port: o.Port, Mounts: mounts, LogPath: logPath,
			// Root reads the cluster CA in the harness's 0700 work dir (the official image runs as 1000).
			User: "0:0",
		})
	} else {
		p, err = proc.Start(proc.Spec{
			Name: "keycloak", Path: filepath.Join(o.Home, "bin", "kc.sh"), Args: args, Env: env,
			LogPath: logPath, Dir: o.Home,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("keycloak: %w", err)
	}
	s := &Server{o: o, p: p, base: base, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}}
	disc := RealmIssuer(base, "master") + "/.well-known/openid-configuration"
	err = wait.Until(ctx, "keycloak "+disc, o.StartTimeout, time.Second, func(ctx context.Context) (bool, error) {
		if err := p.Alive(); err != nil {
			return false, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, disc, nil)
		resp, err := s.http.Do(req)
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
		_ = p.Stop(10 * time.Second)
		return nil, fmt.Errorf("keycloak: %w", err)
	}
	return s, nil
}

// URL is the server's base URL, e.g. http://10.213.0.1:41234.
func (s *Server) URL() string { return s.base }

// LogPath is the server's log file.
func (s *Server) LogPath() string { return s.p.LogPath() }

// ReadLog returns the server's log so far, everything it has written
// included (a container's copy is caught up first).
func (s *Server) ReadLog(ctx context.Context) ([]byte, error) { return ctr.ReadLog(ctx, s.p) }

// Stop stops the server.
func (s *Server) Stop() error { return s.p.Stop(20 * time.Second) }

// adminToken logs in to the master realm as the bootstrap admin.
func (s *Server) adminToken(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {AdminUser}, "password": {AdminPassword}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, TokenEndpoint(s.base, "master"), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("keycloak: admin login: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("keycloak: admin login: HTTP %d: %.300s", resp.StatusCode, body)
	}
	var tok map[string]any
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", fmt.Errorf("keycloak: admin login: no access_token in response")
	}
	issued.RecordTokenResponse(tok)
	at, _ := tok["access_token"].(string)
	if at == "" {
		return "", fmt.Errorf("keycloak: admin login: no access_token in response")
	}
	return at, nil
}

// CreateRealm POSTs a realm representation to /admin/realms (replacing a
// realm of the same name, so a suite can re-apply its configuration).
func (s *Server) CreateRealm(ctx context.Context, rep map[string]any) error {
	name, _ := rep["realm"].(string)
	tok, err := s.adminToken(ctx)
	if err != nil {
		return err
	}
	del, _ := http.NewRequestWithContext(ctx, http.MethodDelete, s.base+"/admin/realms/"+url.PathEscape(name), nil)
	del.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := s.http.Do(del); err == nil {
		resp.Body.Close()
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("keycloak: realm %s: %w", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/admin/realms", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("keycloak: create realm %s: %w", name, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("keycloak: create realm %s: HTTP %d: %.500s", name, resp.StatusCode, msg)
	}
	return nil
}

// Get GETs an admin API path (e.g. /admin/realms/fedtoken/identity-provider/instances)
// and decodes the JSON answer into out.
func (s *Server) Get(ctx context.Context, path string, out any) error {
	tok, err := s.adminToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("keycloak: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("keycloak: GET %s: HTTP %d: %.300s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}

// BaseURL is the URL of a Keycloak that Start runs on host and port.
func BaseURL(host string, port int) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// FreePort picks a free port on host for Options.Port, so that a caller
// knows Keycloak's URL (BaseURL) before it starts: another process may
// still take the port before Keycloak binds it.
func FreePort(host string) (int, error) { return freePort(host) }

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("keycloak: free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Post POSTs body as JSON to an admin API path (e.g.
// /admin/realms/fedtoken-jag/users). A 409 Conflict (already there) is not
// an error, so suites can re-apply what they need.
func (s *Server) Post(ctx context.Context, path string, body any) error {
	tok, err := s.adminToken(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("keycloak: POST %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("keycloak: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("keycloak: POST %s: HTTP %d: %.300s", path, resp.StatusCode, msg)
	}
	return nil
}
