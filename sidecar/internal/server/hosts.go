package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// Requests must name the sidecar in their Host header by a name that no
// DNS answer can point at it: a DNS-rebinding page (evil.example resolved
// to 127.0.0.1 after the page loaded) sends same-origin requests with its
// own name, which is then refused. Accepted: an IP literal (v4 or [v6]),
// "localhost" and "*.localhost" (resolved by the client itself, RFC 6761),
// no Host at all (HTTP/1.0), and the names given with WithAllowedHosts.

// hostGuard wraps next with the Host check of one listener.
func (s *Server) hostGuard(listener string, next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(s.o.allowedHosts))
	for _, h := range s.o.allowedHosts {
		allowed[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostAllowed(r.Host, allowed) {
			next.ServeHTTP(w, r)
			return
		}
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "request refused: Host not served here (DNS rebinding protection)",
			slog.String("listener", listener), slog.String("host", r.Host), slog.String("method", r.Method))
		http.Error(w, fmt.Sprintf("fedtoken-sidecar: Host %q is not served here (DNS rebinding protection): "+
			"use localhost or an IP address, or add the name to sidecar.allowedHosts (--allowed-host)", r.Host),
			http.StatusMisdirectedRequest)
	})
}

// hostAllowed reports whether the Host header value hostport may reach the
// sidecar.
func hostAllowed(hostport string, allowed map[string]bool) bool {
	if hostport == "" {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	switch {
	case net.ParseIP(host) != nil:
		return true
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return true
	}
	return allowed[host]
}

// warnBeyondLoopback logs a warning for a listener that other hosts can
// reach: whoever reaches a proxy or the token endpoint acts with the
// workload's identity.
func (s *Server) warnBeyondLoopback(name string, addr net.Addr) {
	if name == "health" {
		return // probes come from the node: meant to be reachable
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() {
		return
	}
	what := "the proxy injects the workload's access token into requests from anyone who can connect"
	if name == "admin" {
		what = "the admin listener serves the access token and /quitquitquit to anyone who can connect"
	}
	s.logger.Warn("listening beyond loopback", slog.String("listener", name), slog.String("addr", addr.String()),
		slog.String("risk", what+"; bind 127.0.0.1 unless other pods must reach it, and restrict them with a NetworkPolicy"))
}
