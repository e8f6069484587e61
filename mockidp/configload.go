package mockidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// maxConfigSize bounds how much of a config file is read.
const maxConfigSize = 4 << 20

// LoadConfig reads a YAML or JSON config file. In its file paths
// (signingKeyFile, publicKeyFile, jwksFile, caFile, token dirs) $VAR and
// ${VAR} are expanded from the environment, then relative paths are
// resolved against the file's directory.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxConfigSize+1)); err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if buf.Len() > maxConfigSize {
		return nil, fmt.Errorf("config: %s is larger than %d bytes", path, maxConfigSize)
	}
	cfg, err := ParseConfig(buf.Bytes(), path)
	if err != nil {
		return nil, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// ParseConfig parses a YAML or JSON config; name is used in errors.
// Unknown fields are errors, so a typo does not go unnoticed.
func ParseConfig(data []byte, name string) (*Config, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	cfg := new(Config)
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	return cfg, nil
}

func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		*p = os.ExpandEnv(*p)
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Issuers {
		is := &c.Issuers[i]
		abs(&is.SigningKeyFile)
		for j := range is.Clients {
			abs(&is.Clients[j].PublicKeyFile)
		}
		for j := range is.Trust {
			abs(&is.Trust[j].JWKSFile)
			abs(&is.Trust[j].CAFile)
		}
	}
	if c.Cluster != nil {
		abs(&c.Cluster.SigningKeyFile)
		for j := range c.Cluster.Tokens {
			abs(&c.Cluster.Tokens[j].Dir)
		}
	}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// reservedNames cannot be issuer names: they are paths of the server.
var reservedNames = []string{"admin", ".well-known"}

// Validate checks the config without touching files or the network. Each
// error names the field (as a JSON path) and what to fix.
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	names := map[string]bool{}
	checkName := func(path, name string) {
		switch {
		case name == "":
			add(path, "name is required")
		case !nameRE.MatchString(name):
			add(path, "name %q: use letters, digits, '.', '-' and '_'", name)
		case slices.Contains(reservedNames, name):
			add(path, "name %q is reserved", name)
		case names[name]:
			add(path, "name %q is used twice", name)
		}
		names[name] = true
	}
	for i := range c.Issuers {
		checkName(fmt.Sprintf("issuers[%d].name", i), c.Issuers[i].Name)
	}
	clusterName := ""
	if c.Cluster != nil {
		clusterName = c.Cluster.name()
		checkName("cluster.name", clusterName)
	}
	if len(c.Issuers) == 0 && c.Cluster == nil {
		add("issuers", "no issuers configured: add at least one issuer or a cluster")
	}
	for i := range c.Issuers {
		c.Issuers[i].validate(fmt.Sprintf("issuers[%d]", i), names, clusterName, c.trustedByCluster(c.Issuers[i].Name), add)
	}
	if c.Cluster != nil {
		c.Cluster.validate("cluster", names, add)
	}
	for i, f := range c.Faults {
		if err := f.validate(); err != nil {
			add(fmt.Sprintf("faults[%d]", i), "%v", err)
		}
		if f.Issuer != "" && !names[f.Issuer] {
			add(fmt.Sprintf("faults[%d].issuer", i), "unknown issuer %q", f.Issuer)
		}
	}
	return errors.Join(errs...)
}

// trustedByCluster reports whether the cluster is automatically trusted by
// the named issuer.
func (c *Config) trustedByCluster(issuer string) bool {
	if c.Cluster == nil {
		return false
	}
	return slices.Contains(c.Cluster.TrustedBy, "*") || slices.Contains(c.Cluster.TrustedBy, issuer)
}

type addFunc func(path, format string, args ...any)

func (is *IssuerConfig) validate(p string, names map[string]bool, clusterName string, clusterTrusted bool, add addFunc) {
	if is.AccessTokenLifetime != 0 && is.AccessTokenLifetime.D() < 1e9 {
		add(p+".accessTokenLifetime", "must be at least 1s, got %s", is.AccessTokenLifetime.D())
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"idTokenLifetime", is.IDTokenLifetime}, {"refreshTokenLifetime", is.RefreshTokenLifetime}, {"device.lifetime", is.Device.Lifetime}} {
		if d.v < 0 {
			add(p+"."+d.name, "must not be negative")
		}
	}
	if is.Device.Interval != nil && *is.Device.Interval < 0 {
		add(p+".device.interval", "must not be negative")
	}
	if is.Device.PendingPolls < 0 {
		add(p+".device.pendingPolls", "must not be negative")
	}
	switch is.SubjectTokenError {
	case "", "invalid_grant", "invalid_request":
	default:
		add(p+".subjectTokenError", "%q: want invalid_grant or invalid_request", is.SubjectTokenError)
	}
	users := map[string]bool{}
	for i, u := range is.Users {
		up := fmt.Sprintf("%s.users[%d]", p, i)
		if u.Username == "" {
			add(up+".username", "is required")
		} else if users[u.Username] {
			add(up+".username", "%q is used twice", u.Username)
		}
		users[u.Username] = true
	}
	if is.Login.User != "" && len(is.Users) > 0 && !users[is.Login.User] {
		add(p+".login.user", "%q is not one of the issuer's users", is.Login.User)
	}
	trust := map[string]bool{}
	if clusterTrusted {
		trust[clusterName] = true
	}
	for i := range is.Trust {
		tp := fmt.Sprintf("%s.trust[%d]", p, i)
		t := &is.Trust[i]
		t.validate(tp, names, add)
		n := t.name()
		if trust[n] {
			add(tp+".name", "trust policy %q is defined twice (the cluster's automatic policy has its name)", n)
		}
		trust[n] = true
	}
	clients := map[string]bool{}
	for i := range is.Clients {
		cp := fmt.Sprintf("%s.clients[%d]", p, i)
		cl := &is.Clients[i]
		if clients[cl.ID] && cl.ID != "" {
			add(cp+".id", "%q is used twice", cl.ID)
		}
		clients[cl.ID] = true
		cl.validate(cp, trust, add)
	}
}

func (t *TrustConfig) name() string {
	switch {
	case t.Name != "":
		return t.Name
	case t.LocalIssuer != "":
		return t.LocalIssuer
	default:
		return t.Issuer
	}
}

func (t *TrustConfig) validate(p string, names map[string]bool, add addFunc) {
	sources := 0
	for _, s := range []string{t.DiscoveryURL, t.JWKSURL, t.JWKSFile} {
		if s != "" {
			sources++
		}
	}
	switch {
	case t.LocalIssuer != "":
		if !names[t.LocalIssuer] {
			add(p+".localIssuer", "unknown issuer %q", t.LocalIssuer)
		}
		if t.Issuer != "" || sources > 0 || t.CAFile != "" {
			add(p, "localIssuer uses the local keys: drop issuer, discoveryURL, jwksURL, jwksFile and caFile")
		}
	case t.Issuer == "":
		add(p+".issuer", "is required (or set localIssuer)")
	case sources > 1:
		add(p, "set at most one of discoveryURL, jwksURL and jwksFile")
	}
	for _, u := range []struct{ field, v string }{{"issuer", t.Issuer}, {"discoveryURL", t.DiscoveryURL}, {"jwksURL", t.JWKSURL}} {
		if u.v != "" && u.field != "issuer" && !strings.HasPrefix(u.v, "http://") && !strings.HasPrefix(u.v, "https://") {
			add(p+"."+u.field, "%q is not an http(s) URL", u.v)
		}
	}
	if t.MaxTokenAge < 0 {
		add(p+".maxTokenAge", "must not be negative")
	}
	if t.ClockSkew < 0 {
		add(p+".clockSkew", "must not be negative")
	}
	for i, s := range t.Subjects {
		if s == "" {
			add(fmt.Sprintf("%s.subjects[%d]", p, i), "empty subject pattern")
		}
	}
}

// Auth method names of ClientConfig.AuthMethods.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthFederated         = "federated"
	AuthNone              = "none"
)

func (cl *ClientConfig) validate(p string, trust map[string]bool, add addFunc) {
	if cl.ID == "" {
		add(p+".id", "is required")
	}
	hasKey := cl.PublicKeyFile != "" || len(cl.JWKS) > 0
	if cl.PublicKeyFile != "" && len(cl.JWKS) > 0 {
		add(p, "set publicKeyFile or jwks, not both")
	}
	if cl.Public && (cl.Secret != "" || hasKey || cl.Federated != nil) {
		add(p+".public", "a public client has no credentials: drop secret, publicKeyFile, jwks and federated")
	}
	if !cl.Public && cl.Secret == "" && !hasKey && cl.Federated == nil {
		add(p, "client %q has no credentials: set secret, publicKeyFile, jwks or federated, or public: true", cl.ID)
	}
	if f := cl.Federated; f != nil {
		if f.Subject == "" {
			add(p+".federated.subject", "is required")
		}
		if !trust[f.Trust] {
			add(p+".federated.trust", "%q is not a trust policy of this issuer", f.Trust)
		}
	}
	for i, m := range cl.AuthMethods {
		mp := fmt.Sprintf("%s.authMethods[%d]", p, i)
		switch m {
		case AuthClientSecretBasic, AuthClientSecretPost:
			if cl.Secret == "" {
				add(mp, "%s needs a secret", m)
			}
		case AuthPrivateKeyJWT:
			if !hasKey {
				add(mp, "private_key_jwt needs publicKeyFile or jwks")
			}
		case AuthFederated:
			if cl.Federated == nil {
				add(mp, "federated needs the federated block")
			}
		default:
			add(mp, "unknown method %q: want client_secret_basic, client_secret_post, private_key_jwt or federated", m)
		}
	}
	for i, g := range cl.Grants {
		gp := fmt.Sprintf("%s.grants[%d]", p, i)
		full, ok := grantURN(g)
		if !ok {
			add(gp, "unknown grant %q: want authorization_code, refresh_token, client_credentials, jwt_bearer, token_exchange or device_code", g)
			continue
		}
		if cl.Public && full == GrantClientCredentials {
			add(gp, "a public client cannot use client_credentials")
		}
	}
	if cl.AccessTokenLifetime != 0 && cl.AccessTokenLifetime.D() < 1e9 {
		add(p+".accessTokenLifetime", "must be at least 1s")
	}
}

func (c *ClusterConfig) name() string {
	if c.Name == "" {
		return "cluster"
	}
	return c.Name
}

func (c *ClusterConfig) validate(p string, names map[string]bool, add addFunc) {
	if c.TokenLifetime < 0 {
		add(p+".tokenLifetime", "must not be negative")
	} else if c.TokenLifetime != 0 && c.TokenLifetime.D() < 2e9 {
		add(p+".tokenLifetime", "must be at least 2s")
	}
	if c.RefreshFraction < 0 || c.RefreshFraction > 1 {
		add(p+".refreshFraction", "%v: want a fraction in (0, 1]", c.RefreshFraction)
	}
	for i, n := range c.TrustedBy {
		if n != "*" && (!names[n] || n == c.name()) {
			add(fmt.Sprintf("%s.trustedBy[%d]", p, i), "unknown issuer %q", n)
		}
	}
	seen := map[string]bool{}
	for i, t := range c.Tokens {
		tp := fmt.Sprintf("%s.tokens[%d]", p, i)
		if t.Dir == "" {
			add(tp+".dir", "is required")
		}
		file := t.file()
		if strings.ContainsRune(file, '/') || strings.HasPrefix(file, "..") || file == "." {
			add(tp+".path", "%q: want a plain file name (no '/', not starting with \"..\")", file)
		}
		key := filepath.Join(t.Dir, file)
		if seen[key] {
			add(tp, "%s is written twice", key)
		}
		seen[key] = true
		if len(t.Audiences) == 0 && len(t.AudienceIssuers) == 0 {
			add(tp, "set audiences or audienceIssuers: a token needs an audience")
		}
		for j, n := range t.AudienceIssuers {
			if !names[n] {
				add(fmt.Sprintf("%s.audienceIssuers[%d]", tp, j), "unknown issuer %q", n)
			}
		}
		if t.Lifetime < 0 || (t.Lifetime != 0 && t.Lifetime.D() < 2e9) {
			add(tp+".lifetime", "must be at least 2s")
		}
	}
}

func (t *ProjectedTokenConfig) file() string {
	if t.Path == "" {
		return "token"
	}
	return t.Path
}
