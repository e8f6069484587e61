// Package gateway is the e2e stand-in for an OpenAI-compatible LLM gateway
// behind OAuth: every request must carry a bearer token that verifies
// against one trusted IdP's JWKS (signature, issuer, audience or azp,
// expiry); a verified POST …/chat/completions gets a streamed (SSE) chat
// completion whose text names the IdP that issued the token. Each request
// is recorded, so a suite can tell which IdP's token reached it for which
// provider.
package gateway

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
)

// Trust is one IdP the gateway accepts tokens from.
type Trust struct {
	// Name labels the IdP in answers and records (e.g. "keycloak/prod").
	Name string
	// Issuer must equal the token's iss.
	Issuer string
	// JWKSURL is where the IdP's signing keys are (fetched on first use and
	// again when a kid is unknown).
	JWKSURL string
	// Audience must be in the token's aud or equal its azp.
	Audience string
}

// Record is one request the gateway answered.
type Record struct {
	Time     time.Time
	Path     string
	Verified bool
	IdP      string // Trust.Name of the verifying IdP
	Issuer   string
	Subject  string
	Azp      string
	Expires  time.Time
	Reason   string // why the token was refused
}

// Server is a running gateway.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	trusts []Trust
	client *http.Client
	logf   func(string, ...any)

	mu      sync.Mutex
	keys    map[string]map[string]crypto.PublicKey // issuer → kid → key
	records []Record
}

// Models are the ids GET …/models lists.
var Models = []string{"glm-5", "qwen3-coder-30b-a3b", "gpt-oss-120b"}

// Answer is the text the gateway streams back for a token of idp.
func Answer(idp string) string {
	return "gateway verified a token from " + idp + "; here is the summary."
}

// Start listens on host:0 (an address the pods reach) and serves.
func Start(host string, trusts []Trust, logf func(string, ...any)) (*Server, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("gateway: listen: %w", err)
	}
	s := &Server{ln: ln, trusts: trusts, client: &http.Client{Timeout: 10 * time.Second}, logf: logf, keys: map[string]map[string]crypto.PublicKey{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the gateway's base URL, e.g. http://10.0.0.1:41234/v1.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/v1" }

// Close stops the gateway.
func (s *Server) Close() error { return s.srv.Close() }

// Records returns a copy of every request recorded so far.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Record{Time: time.Now(), Path: r.URL.Path}
	defer func() {
		s.mu.Lock()
		s.records = append(s.records, rec)
		s.mu.Unlock()
		if s.logf != nil {
			if rec.Verified {
				s.logf("gateway: %s %s: verified token from %s (iss=%s sub=%s azp=%s, expires in %ds)", r.Method, rec.Path, rec.IdP, rec.Issuer, rec.Subject, rec.Azp, int(time.Until(rec.Expires).Seconds()))
			} else {
				s.logf("gateway: %s %s: refused: %s", r.Method, rec.Path, rec.Reason)
			}
		}
	}()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		rec.Reason = "no bearer token"
		http.Error(w, `{"error":{"message":"missing bearer token"}}`, http.StatusUnauthorized)
		return
	}
	t, c, err := s.verify(r.Context(), tok)
	if err != nil {
		rec.Reason = err.Error()
		http.Error(w, `{"error":{"message":"invalid bearer token"}}`, http.StatusUnauthorized)
		return
	}
	issued.Record(tok) // a token an IdP issued: the run's logs must not hold it
	rec.Verified, rec.IdP, rec.Issuer, rec.Subject, rec.Azp, rec.Expires = true, t.Name, c.Issuer, c.Subject, azp(tok), c.ExpiresAt
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		stream(w, Answer(t.Name))
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/responses"):
		streamResponses(w, Answer(t.Name))
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		w.Header().Set("Content-Type", "application/json")
		data := make([]any, len(Models))
		for i, id := range Models {
			data[i] = map[string]any{"id": id, "object": "model", "owned_by": "e2e"}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
	default:
		http.NotFound(w, r)
	}
}

// stream writes an OpenAI chat.completion.chunk SSE stream of text.
func stream(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": "glm-5",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	for _, word := range strings.SplitAfter(text, " ") {
		chunk(map[string]any{"content": word}, nil)
	}
	chunk(map[string]any{}, "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// verify checks tok against the trusted IdP named by its iss.
func (s *Server) verify(ctx context.Context, tok string) (Trust, jwt.Claims, error) {
	h, c, err := jwt.Decode(tok)
	if err != nil {
		return Trust{}, c, err
	}
	i := slices.IndexFunc(s.trusts, func(t Trust) bool { return t.Issuer == c.Issuer })
	if i < 0 {
		return Trust{}, c, fmt.Errorf("issuer %q is not trusted", c.Issuer)
	}
	t := s.trusts[i]
	key, err := s.key(ctx, t, h.Kid)
	if err != nil {
		return t, c, err
	}
	if err := checkSignature(tok, h.Alg, key); err != nil {
		return t, c, err
	}
	if c.ExpiresAt.IsZero() || !time.Now().Before(c.ExpiresAt) {
		return t, c, fmt.Errorf("token of %s expired at %s", t.Name, c.ExpiresAt.Format(time.RFC3339))
	}
	if !slices.Contains(c.Audience, t.Audience) && azp(tok) != t.Audience {
		return t, c, fmt.Errorf("token of %s: aud %v and azp %q do not name %q", t.Name, c.Audience, azp(tok), t.Audience)
	}
	return t, c, nil
}

// azp reads the azp claim (jwt.Claims does not carry it).
func azp(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var v struct {
		Azp string `json:"azp"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Azp
}

func (s *Server) key(ctx context.Context, t Trust, kid string) (crypto.PublicKey, error) {
	s.mu.Lock()
	k, ok := s.keys[t.Issuer][kid]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	keys, err := s.fetchJWKS(ctx, t.JWKSURL)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.keys[t.Issuer] = keys
	s.mu.Unlock()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%s: no key %q in %s", t.Name, kid, t.JWKSURL)
}

func (s *Server) fetchJWKS(ctx context.Context, url string) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks %s: HTTP %d", url, resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, Use, Crv, N, E, X, Y string
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks %s: %w", url, err)
	}
	out := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch k.Kty {
		case "RSA":
			n, err1 := base64.RawURLEncoding.DecodeString(k.N)
			e, err2 := base64.RawURLEncoding.DecodeString(k.E)
			if err1 != nil || err2 != nil {
				continue
			}
			out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		case "EC":
			x, err1 := base64.RawURLEncoding.DecodeString(k.X)
			y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			}
			if err1 != nil || err2 != nil || curve == nil {
				continue
			}
			size := (curve.Params().BitSize + 7) / 8
			if len(x) > size || len(y) > size {
				continue
			}
			point := make([]byte, 1+2*size)
			point[0] = 4 // uncompressed
			copy(point[1+size-len(x):1+size], x)
			copy(point[1+2*size-len(y):], y)
			pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
			if err != nil {
				continue
			}
			out[k.Kid] = pub
		}
	}
	return out, nil
}

// checkSignature verifies a JWS compact signature (RS256/384/512, PS256,
// ES256/384).
func checkSignature(tok, alg string, key crypto.PublicKey) error {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return errors.New("malformed token")
	}
	signed, sig64 := tok[:i], tok[i+1:]
	sig, err := base64.RawURLEncoding.DecodeString(sig64)
	if err != nil {
		return errors.New("malformed signature")
	}
	var h crypto.Hash
	switch alg {
	case "RS256", "PS256", "ES256":
		h = crypto.SHA256
	case "RS384", "ES384":
		h = crypto.SHA384
	case "RS512":
		h = crypto.SHA512
	default:
		return fmt.Errorf("algorithm %q not accepted", alg)
	}
	var digest []byte
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256([]byte(signed))
		digest = d[:]
	case crypto.SHA384:
		d := sha512.Sum384([]byte(signed))
		digest = d[:]
	default:
		d := sha512.Sum512([]byte(signed))
		digest = d[:]
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "PS") {
			return rsa.VerifyPSS(k, h, digest, sig, nil)
		}
		if !strings.HasPrefix(alg, "RS") {
			return fmt.Errorf("algorithm %s with an RSA key", alg)
		}
		return rsa.VerifyPKCS1v15(k, h, digest, sig)
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if !strings.HasPrefix(alg, "ES") || len(sig) != 2*size {
			return fmt.Errorf("bad %s signature", alg)
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported key %T", key)
}
