package mockidp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Server is a mock identity provider with several issuers. It is an
// http.Handler; serve it yourself or use mockidptest.Start in tests. All
// methods are safe for concurrent use.
type Server struct {
	baseURL    string
	now        func() time.Time
	httpClient *http.Client

	issuers map[string]*issuer
	order   []string
	cluster *Cluster
	faults  *faultSet
	log     *requestLog
	admin   bool
	handler http.Handler
	issued  *issuedLog // nil unless WithIssuedSecrets
}

// New builds a server whose issuers live under baseURL (scheme and host,
// no path), e.g. New("http://127.0.0.1:8080", WithConfig(cfg)) serves the
// issuer "prod" as http://127.0.0.1:8080/prod. Signing keys are generated
// (or read) and projected token files are written before New returns;
// call [Server.Run] to keep rotating them.
func New(baseURL string, opts ...Option) (*Server, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	st := &settings{now: time.Now, httpClient: &http.Client{Timeout: 10 * time.Second}, genKey: generateRSAKey}
	for _, o := range opts {
		if err := o.apply(st); err != nil {
			return nil, err
		}
	}
	if err := st.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mockidp: invalid config: %w", err)
	}
	s := &Server{
		baseURL:    base,
		now:        st.now,
		httpClient: st.httpClient,
		issuers:    map[string]*issuer{},
		faults:     newFaultSet(),
		log:        newRequestLog(),
		admin:      st.cfg.Admin,
		issued:     st.issued,
	}
	s.issued.recordConfigured(st.cfg)
	if c := st.cfg.Cluster; c != nil {
		if s.cluster, err = s.newCluster(*c, st.genKey); err != nil {
			return nil, err
		}
	}
	for _, ic := range st.cfg.Issuers {
		is, err := s.newIssuer(ic, st.genKey)
		if err != nil {
			return nil, err
		}
		s.issuers[ic.Name] = is
		s.order = append(s.order, ic.Name)
	}
	// Trust policies may name any local issuer, so they are built last.
	for _, name := range s.order {
		is := s.issuers[name]
		var trust []TrustConfig
		if st.cfg.trustedByCluster(name) {
			c := st.cfg.Cluster
			trust = append(trust, TrustConfig{Name: c.name(), LocalIssuer: c.name(), Subjects: c.TrustSubjects})
		}
		trust = append(trust, is.cfg.Trust...)
		for _, tc := range trust {
			p, err := s.buildTrust(tc, is.url)
			if err != nil {
				return nil, fmt.Errorf("mockidp: issuer %q: %w", name, err)
			}
			is.trust = append(is.trust, p)
		}
	}
	for _, f := range st.cfg.Faults {
		if _, err := s.faults.add(f); err != nil {
			return nil, fmt.Errorf("mockidp: %w", err)
		}
	}
	if s.cluster != nil {
		if err := s.cluster.writeAll(); err != nil {
			return nil, err
		}
	}
	s.handler = s.routes()
	return s, nil
}

func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("mockidp: base URL %q: want http(s)://host[:port]", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("mockidp: base URL %q: want only scheme, host and port (issuers are served at its root)", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Endpoint paths relative to an issuer URL.
const (
	pathAuthorize  = "/authorize"
	pathToken      = "/token"
	pathDeviceAuth = "/device_authorization"
	pathUserinfo   = "/userinfo"
	pathIntrospect = "/introspect"
	pathRevoke     = "/revoke"
	pathKeys       = "/keys"
	pathLogin      = "/login"
	pathDevice     = "/device"
	pathClusterJWK = "/openid/v1/jwks"
)

var opEndpoints = op.Endpoints{
	Authorization:       op.NewEndpoint(pathAuthorize),
	Token:               op.NewEndpoint(pathToken),
	Introspection:       op.NewEndpoint(pathIntrospect),
	Userinfo:            op.NewEndpoint(pathUserinfo),
	Revocation:          op.NewEndpoint(pathRevoke),
	JwksURI:             op.NewEndpoint(pathKeys),
	DeviceAuthorization: op.NewEndpoint(pathDeviceAuth),
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, name := range s.order {
		is := s.issuers[name]
		prefix := "/" + name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, op.RegisterServer(is, opEndpoints)))
		mux.HandleFunc("GET "+prefix+pathLogin, is.loginPage)
		mux.HandleFunc("POST "+prefix+pathLogin, is.loginSubmit)
		mux.HandleFunc("GET "+prefix+pathDevice, is.devicePage)
		mux.HandleFunc("POST "+prefix+pathDevice, is.deviceSubmit)
	}
	if c := s.cluster; c != nil {
		mux.HandleFunc("GET /"+c.name+pathClusterJWK, c.serveJWKS)
	}
	meta := op.RegisterMetadataServer(&metadataServer{s: s})
	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, op.Status{Status: "ok"})
	})
	if s.admin {
		root.Handle("/admin/", s.adminHandler())
	}
	root.Handle("/", s.issued.recordAnswers(s.observe(meta.Intercept(mux))))
	return root
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// BaseURL returns the URL the issuers are served under.
func (s *Server) BaseURL() string { return s.baseURL }

// IssuerURL returns the URL of the named issuer or of the cluster, or ""
// when there is no such issuer.
func (s *Server) IssuerURL(name string) string {
	u, _ := s.localIssuerURL(name)
	return u
}

// IssuerInfo describes one issuer of a server.
type IssuerInfo struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Kind is "issuer", or "cluster" for the Kubernetes-like issuer.
	Kind string `json:"kind"`
}

// Issuers lists the issuers in configuration order, the cluster last.
func (s *Server) Issuers() []IssuerInfo {
	var out []IssuerInfo
	for _, n := range s.order {
		out = append(out, IssuerInfo{Name: n, URL: s.issuers[n].url, Kind: "issuer"})
	}
	if s.cluster != nil {
		out = append(out, IssuerInfo{Name: s.cluster.name, URL: s.cluster.url, Kind: "cluster"})
	}
	return out
}

// Cluster returns the Kubernetes-like cluster, or nil when none is
// configured.
func (s *Server) Cluster() *Cluster { return s.cluster }

// Run rotates the projected service-account tokens of the cluster until
// ctx is done. Without a cluster it just waits for ctx. It returns nil
// when ctx is done, or the first error writing a token.
func (s *Server) Run(ctx context.Context) error {
	if s.cluster == nil {
		<-ctx.Done()
		return nil
	}
	return s.cluster.run(ctx)
}

func (s *Server) issuer(name string) (*issuer, error) {
	is, ok := s.issuers[name]
	if !ok {
		return nil, fmt.Errorf("unknown issuer %q (have %v)", name, s.order)
	}
	return is, nil
}

func (s *Server) localIssuerURL(name string) (string, bool) {
	if _, ok := s.issuers[name]; ok {
		return s.baseURL + "/" + name, true
	}
	if s.cluster != nil && s.cluster.name == name {
		return s.cluster.url, true
	}
	// During New, issuers are registered after their URL is needed.
	return "", false
}

func (s *Server) localIssuerKeys(name string) []jose.JSONWebKey {
	if is, ok := s.issuers[name]; ok {
		return is.key.jwks().Keys
	}
	if s.cluster != nil && s.cluster.name == name {
		return s.cluster.key.jwks().Keys
	}
	return nil
}

// classify maps a request path to the issuer and endpoint names used by
// faults, the request log and counters.
func (s *Server) classify(p string) (issuerName, endpoint string) {
	for _, wk := range []string{"/.well-known/openid-configuration/", "/.well-known/oauth-authorization-server/"} {
		if rest, ok := strings.CutPrefix(p, wk); ok {
			return rest, "discovery"
		}
	}
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return "", "other"
	}
	name, sub, _ := strings.Cut(rest, "/")
	if _, known := s.issuers[name]; !known && (s.cluster == nil || s.cluster.name != name) {
		return "", "other"
	}
	switch "/" + sub {
	case "/.well-known/openid-configuration":
		return name, "discovery"
	case pathToken:
		return name, "token"
	case pathAuthorize:
		return name, "authorize"
	case pathDeviceAuth:
		return name, "device_authorization"
	case pathUserinfo:
		return name, "userinfo"
	case pathIntrospect:
		return name, "introspection"
	case pathRevoke:
		return name, "revocation"
	case pathKeys, pathClusterJWK:
		return name, "jwks"
	case pathLogin:
		return name, "login"
	case pathDevice:
		return name, "device"
	}
	return name, "other"
}

// Endpoint names accepted in FaultRule.Endpoint.
var endpointNames = []string{"discovery", "jwks", "token", "authorize", "device_authorization", "userinfo", "introspection", "revocation", "login", "device"}

func validEndpoint(e string) error {
	if e == "" || slices.Contains(endpointNames, e) {
		return nil
	}
	return errors.New("unknown endpoint " + fmt.Sprintf("%q (want one of %v)", e, endpointNames))
}
