package mockidp

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fedtoken/fedtoken/mockidp/atomicwriter"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Defaults of ClusterConfig.
const (
	defaultSATokenLifetime = 10 * time.Minute
	defaultRefreshFraction = 0.8
)

// Cluster plays a Kubernetes API server and kubelet: it signs
// service-account tokens (claims as pkg/serviceaccount/claims.go), serves
// their discovery document and JWKS, and keeps projected token files
// fresh with the kubelet's atomic-writer layout.
type Cluster struct {
	srv      *Server
	name     string
	url      string
	key      *signingKey
	lifetime time.Duration
	fraction float64
	volumes  []*volume
	force    chan struct{}

	mu        sync.Mutex // serialises writes
	rotations int
}

// volume is one projected volume: the token files that share a directory.
type volume struct {
	dir    string
	tokens []ProjectedTokenConfig
	writer *atomicwriter.Writer
	due    time.Time // next rewrite
}

func (s *Server) newCluster(cfg ClusterConfig, gen func() (*rsa.PrivateKey, error)) (*Cluster, error) {
	name := cfg.name()
	key, err := s.issuerKey(name, cfg.SigningKeyFile, gen)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		srv: s, name: name, url: s.baseURL + "/" + name, key: key,
		lifetime: cfg.TokenLifetime.D(), fraction: cfg.RefreshFraction,
		force: make(chan struct{}, 1),
	}
	if c.lifetime == 0 {
		c.lifetime = defaultSATokenLifetime
	}
	if c.fraction == 0 {
		c.fraction = defaultRefreshFraction
	}
	byDir := map[string]*volume{}
	for _, t := range cfg.Tokens {
		dir := filepath.Clean(t.Dir)
		v := byDir[dir]
		if v == nil {
			v = &volume{dir: dir, writer: &atomicwriter.Writer{Dir: dir}}
			byDir[dir] = v
			c.volumes = append(c.volumes, v)
		}
		v.tokens = append(v.tokens, t)
	}
	return c, nil
}

// Name returns the cluster issuer's path segment.
func (c *Cluster) Name() string { return c.name }

// Issuer returns the iss of the service-account tokens.
func (c *Cluster) Issuer() string { return c.url }

// ServiceAccountToken describes a token for [Cluster.Mint].
type ServiceAccountToken struct {
	Namespace      string   `json:"namespace"`
	ServiceAccount string   `json:"serviceAccount"`
	Audiences      []string `json:"audiences"`
	// Lifetime defaults to the cluster's token lifetime.
	Lifetime Duration `json:"lifetime,omitempty"`
	// Pod binds the token to a pod (kubernetes.io.pod), as projected
	// tokens are; empty gives a token like `kubectl create token`.
	Pod string `json:"pod,omitempty"`
	// IssuedAt backdates (or postdates) the token; zero is now.
	IssuedAt time.Time `json:"issuedAt,omitzero"`
	// Claims are added last and may override any claim, e.g. to mint a
	// token without exp for a rejection test.
	Claims map[string]any `json:"claims,omitempty"`
}

// Mint signs a service-account token.
func (c *Cluster) Mint(t ServiceAccountToken) (string, error) {
	if t.Namespace == "" || t.ServiceAccount == "" {
		return "", errors.New("cluster: mint: namespace and serviceAccount are required")
	}
	if len(t.Audiences) == 0 {
		return "", errors.New("cluster: mint: audiences are required")
	}
	life := t.Lifetime.D()
	if life <= 0 {
		life = c.lifetime
	}
	iat := t.IssuedAt
	if iat.IsZero() {
		iat = c.srv.now()
	}
	k8s := map[string]any{
		"namespace":      t.Namespace,
		"serviceaccount": map[string]any{"name": t.ServiceAccount, "uid": stableUID("sa", t.Namespace, t.ServiceAccount)},
	}
	if t.Pod != "" {
		k8s["pod"] = map[string]any{"name": t.Pod, "uid": stableUID("pod", t.Namespace, t.Pod)}
	}
	claims := map[string]any{
		"iss":           c.url,
		"sub":           "system:serviceaccount:" + t.Namespace + ":" + t.ServiceAccount,
		"aud":           t.Audiences,
		"iat":           iat.Unix(),
		"nbf":           iat.Unix(),
		"exp":           iat.Add(life).Unix(),
		"jti":           uuidFrom(randomID(16)),
		"kubernetes.io": k8s,
	}
	for k, v := range t.Claims {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	tok, err := c.key.sign(claims, "")
	if err == nil {
		c.srv.issued.record(tok)
	}
	return tok, err
}

// stableUID derives a UUID-shaped UID from its parts, so a service account
// keeps its UID across restarts.
func stableUID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return uuidFrom(hex.EncodeToString(h.Sum(nil)))
}

func uuidFrom(hexs string) string {
	return hexs[0:8] + "-" + hexs[8:12] + "-" + hexs[12:16] + "-" + hexs[16:20] + "-" + hexs[20:32]
}

func (c *Cluster) discovery() *oidc.DiscoveryConfiguration {
	return &oidc.DiscoveryConfiguration{
		Issuer:                           c.url,
		JwksURI:                          c.url + pathClusterJWK,
		ResponseTypesSupported:           []string{"id_token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
	}
}

func (c *Cluster) serveJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.key.jwks())
}

// TokenFiles lists the projected token files (visible paths).
func (c *Cluster) TokenFiles() []string {
	var out []string
	for _, v := range c.volumes {
		for _, t := range v.tokens {
			out = append(out, filepath.Join(v.dir, t.file()))
		}
	}
	return out
}

// Rotations counts the volume writes so far.
func (c *Cluster) Rotations() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rotations
}

// Rotate rewrites every projected volume now, as a kubelet restart does,
// and reschedules the next rotation.
func (c *Cluster) Rotate() error {
	if err := c.writeAll(); err != nil {
		return err
	}
	select {
	case c.force <- struct{}{}:
	default:
	}
	return nil
}

func (c *Cluster) writeAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.volumes {
		if err := c.write(v); err != nil {
			return err
		}
	}
	return nil
}

// write mints the volume's tokens and swaps them in; c.mu is held.
func (c *Cluster) write(v *volume) error {
	now := c.srv.now()
	files := map[string][]byte{}
	var due time.Time
	for _, t := range v.tokens {
		aud := slices.Clone(t.Audiences)
		for _, n := range t.AudienceIssuers {
			aud = append(aud, c.srv.IssuerURL(n))
		}
		ns, sa := t.Namespace, t.ServiceAccount
		if ns == "" {
			ns = "default"
		}
		if sa == "" {
			sa = "default"
		}
		pod := t.Pod
		if pod == "" {
			pod = sa + "-pod"
		}
		life := t.Lifetime.D()
		if life <= 0 {
			life = c.lifetime
		}
		tok, err := c.Mint(ServiceAccountToken{Namespace: ns, ServiceAccount: sa, Audiences: aud, Lifetime: Duration(life), Pod: pod, IssuedAt: now})
		if err != nil {
			return err
		}
		files[t.file()] = []byte(tok)
		at := now.Add(time.Duration(float64(life) * c.fraction))
		if due.IsZero() || at.Before(due) {
			due = at
		}
	}
	if err := v.writer.Write(files); err != nil {
		return fmt.Errorf("cluster: write projected token volume %s: %w", v.dir, err)
	}
	v.due = due
	c.rotations++
	return nil
}

// run rewrites each volume when it is due (RefreshFraction of its tokens'
// lifetime) until ctx is done.
func (c *Cluster) run(ctx context.Context) error {
	for {
		next := c.NextRotation()
		if next.IsZero() {
			<-ctx.Done()
			return nil
		}
		timer := time.NewTimer(max(0, next.Sub(c.srv.now())))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-c.force:
			timer.Stop()
			continue
		case <-timer.C:
		}
		if err := c.rotateDue(); err != nil {
			return err
		}
	}
}

func (c *Cluster) rotateDue() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.srv.now()
	for _, v := range c.volumes {
		if !now.Before(v.due) {
			if err := c.write(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// NextRotation is when the next projected volume is due to be rewritten
// (zero without token files).
func (c *Cluster) NextRotation() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for _, v := range c.volumes {
		if next.IsZero() || v.due.Before(next) {
			next = v.due
		}
	}
	return next
}
