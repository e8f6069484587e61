package mockidp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/fedtoken/fedtoken/mockidp"
	"github.com/fedtoken/fedtoken/mockidp/mockidptest"
)

func TestMain(m *testing.M) {
	// zitadel/oidc logs every request error through slog.Default; the
	// request log is what the tests look at.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}

// lastRecord is the newest request-log entry of an endpoint.
func lastRecord(t *testing.T, idp *mockidptest.Server, endpoint string) mockidp.RequestRecord {
	t.Helper()
	recs := idp.Requests()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Endpoint == endpoint {
			return recs[i]
		}
	}
	t.Fatalf("no %s request in the log", endpoint)
	return mockidp.RequestRecord{}
}

// testKeys are RSA keys shared by every server of the test binary:
// generating 2048-bit keys under -race costs ~200ms each. A server takes
// them round robin, so its issuers still have distinct keys.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	return keys
})

var keyCounter atomic.Int64

func keyGen() mockidp.Option {
	start := keyCounter.Add(8)
	var n atomic.Int64
	return mockidp.WithKeyGenerator(func() (*rsa.PrivateKey, error) {
		keys := testKeys()
		return keys[(start+n.Add(1))%int64(len(keys))], nil
	})
}

// start serves cfg on loopback with the shared test keys.
func start(t *testing.T, cfg mockidp.Config, opts ...mockidp.Option) *mockidptest.Server {
	t.Helper()
	return mockidptest.Start(t, append([]mockidp.Option{keyGen(), mockidp.WithConfig(cfg)}, opts...)...)
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// extIssuer is an external OIDC issuer (a stand-in for a Kubernetes API
// server or GitHub Actions) with discovery and a JWKS whose keys can be
// rotated and whose endpoints can fail.
type extIssuer struct {
	t   *testing.T
	hs  *httptest.Server
	URL string

	mu            sync.Mutex
	keys          []jose.JSONWebKey // private; the last one signs
	jwksFetches   int
	discoFetches  int
	failJWKS      bool
	discoveryIss  string // issuer claimed by discovery ("" = URL)
	publishedKeys int    // how many keys the JWKS shows (0 = all)
}

func newExtIssuer(t *testing.T, useTLS bool) *extIssuer {
	t.Helper()
	e := &extIssuer{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.discoFetches++
		iss := e.discoveryIss
		e.mu.Unlock()
		if iss == "" {
			iss = e.URL
		}
		writeTestJSON(w, map[string]any{"issuer": iss, "jwks_uri": e.URL + "/openid/v1/jwks"})
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.jwksFetches++
		if e.failJWKS {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		// Like kube-apiserver (pkg/routes/openidmetadata.go), serve the key
		// set only as application/jwk-set+json and answer 406 to a client
		// that does not accept it.
		if !strings.Contains(r.Header.Get("Accept"), "application/jwk-set+json") {
			http.Error(w, "not acceptable", http.StatusNotAcceptable)
			return
		}
		b, _ := json.Marshal(e.publicSetLocked())
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(b)
	})
	if useTLS {
		e.hs = httptest.NewTLSServer(mux)
	} else {
		e.hs = httptest.NewServer(mux)
	}
	t.Cleanup(e.hs.Close)
	e.URL = e.hs.URL
	e.addKey()
	return e
}

func (e *extIssuer) publicSetLocked() jose.JSONWebKeySet {
	keys := e.keys
	if e.publishedKeys > 0 {
		keys = keys[:e.publishedKeys]
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

// addKey adds a signing key (a key rotation at the issuer).
func (e *extIssuer) addKey() {
	k := testKeys()[(len(e.keys)+5)%len(testKeys())]
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = append(e.keys, jose.JSONWebKey{Key: k, KeyID: "ext-" + string(rune('a'+len(e.keys))), Algorithm: "RS256", Use: "sig"})
}

func (e *extIssuer) fetches() (disco, jwks int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.discoFetches, e.jwksFetches
}

// caFile writes the TLS server's certificate as a PEM bundle.
func (e *extIssuer) caFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	der := e.hs.Certificate().Raw
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// token signs claims with the current key; iat/nbf/exp default to now,
// now, now+10m and iss to the issuer URL. A nil value removes a claim.
func (e *extIssuer) token(now time.Time, claims map[string]any) string {
	e.t.Helper()
	base := map[string]any{
		"iss": e.URL, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"jti": "jti-" + now.Format(time.RFC3339Nano),
	}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	e.mu.Lock()
	key := e.keys[len(e.keys)-1]
	e.mu.Unlock()
	return signJWT(e.t, key, base)
}

func signJWT(t *testing.T, key jose.JSONWebKey, claims map[string]any) string {
	t.Helper()
	alg := jose.SignatureAlgorithm(key.Algorithm)
	if alg == "" {
		alg = jose.RS256
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r response) str(k string) string {
	s, _ := r.Body[k].(string)
	return s
}

// postForm POSTs form to u; basic, when non-empty, is "id:secret".
func postForm(t *testing.T, u string, form url.Values, basic string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != "" {
		id, secret, _ := strings.Cut(basic, ":")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return do(t, http.DefaultClient, req)
}

func get(t *testing.T, u string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.DefaultClient, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// verifyIssued checks a token's signature against the issuer's published
// JWKS with zitadel's remote key set, and returns its claims.
func verifyIssued(t *testing.T, issuerURL, jwt string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("issued token: %v", err)
	}
	disco := get(t, issuerURL+"/.well-known/openid-configuration")
	ks := rp.NewRemoteKeySet(http.DefaultClient, disco.str("jwks_uri"))
	if _, err := ks.VerifySignature(context.Background(), jws); err != nil {
		t.Fatalf("issued token does not verify against %s: %v", disco.str("jwks_uri"), err)
	}
	c := claimsOf(t, jwt)
	if c["iss"] != issuerURL {
		t.Fatalf("iss = %v, want %s", c["iss"], issuerURL)
	}
	return c
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// equalPublic compares two RSA public keys.
func equalPublic(a, b any) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}
