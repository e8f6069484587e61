package dist

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fedtoken/fedtoken/release/ociimage"
)

// CheckSidecarTLS runs the fedtoken-sidecar binary of an image (files as
// ociimage.Files returns them; the image must be for this machine) against
// an https token endpoint and an https upstream whose certificate chains to
// a throw-away root CA, twice, with SSL_CERT_FILE pointing at the image's
// own bundle (the file Go reads by default on Linux) and SSL_CERT_DIR at an
// empty directory, so the image's bundle is the only trust the binary has:
//
//   - with the test root appended to the bundle, a request through the
//     sidecar's proxy reaches the upstream with the token from the IdP;
//   - with the image's bundle as it is, the sidecar refuses the IdP's
//     certificate (x509: unknown authority) and serves no request.
//
// The second run shows the first one verified TLS with the bundle.
func CheckSidecarTLS(ctx context.Context, files map[string][]byte) error {
	bin, bundle := files["fedtoken-sidecar"], files[strings.TrimPrefix(ociimage.CABundlePath, "/")]
	if len(bin) == 0 || len(bundle) == 0 {
		return fmt.Errorf("tls check: the image lacks /fedtoken-sidecar or %s", ociimage.CABundlePath)
	}
	dir, err := os.MkdirTemp("", "fedtoken-tlscheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	caPEM, leaf, err := testPKI()
	if err != nil {
		return fmt.Errorf("tls check: %w", err)
	}
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err == nil {
			err = os.WriteFile(p, data, mode)
		}
		return p
	}
	sidecar := write("fedtoken-sidecar", bin, 0o755)
	withCA := write("bundle-with-test-ca.crt", append(append([]byte{}, bundle...), caPEM...), 0o644)
	asIs := write("bundle.crt", bundle, 0o644)
	emptyDir := filepath.Join(dir, "certs")
	if err == nil {
		err = os.Mkdir(emptyDir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("tls check: %w", err)
	}

	const accessToken = "tlscheck-access-token"
	idp := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" || r.FormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, accessToken)
	}))
	var mu sync.Mutex
	var seen []string
	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, "upstream ok")
	}))
	for _, s := range []*httptest.Server{idp, api} {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
		s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
		s.StartTLS()
		defer s.Close()
	}
	config := write("fedtoken.yaml", fmt.Appendf(nil, `providers:
  api:
    baseURL: %s
    tokenEndpoint: %s/token
    clientId: tlscheck
    clientSecretEnv: TLSCHECK_CLIENT_SECRET
    authFlow: client_credentials
`, api.URL, idp.URL), 0o644)
	if err != nil {
		return fmt.Errorf("tls check: %w", err)
	}

	run := func(bundle string, check func(proxy string, logs *logLines) error) error {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, sidecar, "--config", config, "--admin-addr", "", "--proxy", "api=127.0.0.1:0")
		cmd.Env = []string{"SSL_CERT_FILE=" + bundle, "SSL_CERT_DIR=" + emptyDir, "HOME=" + dir, "TLSCHECK_CLIENT_SECRET=not-a-real-secret"}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		logs := &logLines{}
		go logs.read(stderr)
		proxy, err := logs.waitFor(ctx, func(l map[string]any) (string, bool) {
			a, _ := l["addr"].(string)
			return a, l["msg"] == "listening" && l["listener"] == "proxy/api"
		})
		if err != nil {
			return fmt.Errorf("the proxy did not start: %w; log:\n%s", err, logs)
		}
		return check(proxy, logs)
	}

	err = run(withCA, func(proxy string, logs *logLines) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + proxy + "/v1/models")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				got := append([]string(nil), seen...)
				mu.Unlock()
				if resp.StatusCode == http.StatusOK && string(body) == "upstream ok" && len(got) > 0 && got[len(got)-1] == "Bearer "+accessToken {
					return nil
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no request went through the proxy with the IdP's token (last error %v); log:\n%s", err, logs)
			}
			time.Sleep(200 * time.Millisecond) // polling a deadline, not synchronising
		}
	})
	if err != nil {
		return fmt.Errorf("tls check, test root in the image's bundle: %w", err)
	}
	err = run(asIs, func(proxy string, logs *logLines) error {
		_, err := logs.waitFor(ctx, func(l map[string]any) (string, bool) {
			e, _ := l["err"].(string)
			return e, strings.Contains(e, "x509: certificate signed by unknown authority")
		})
		if err != nil {
			return fmt.Errorf("the sidecar did not refuse the IdP's certificate: %w; log:\n%s", err, logs)
		}
		resp, err := http.Get("http://" + proxy + "/v1/models")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return fmt.Errorf("a request went through without a trusted IdP")
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tls check, the image's bundle as it is: %w", err)
	}
	return nil
}

// logLines collects the sidecar's JSON log lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
	done  bool
}

func (l *logLines) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitFor polls the log until match accepts a line, the process ends or
// ctx is done.
func (l *logLines) waitFor(ctx context.Context, match func(map[string]any) (string, bool)) (string, error) {
	for i := 0; ; {
		l.mu.Lock()
		lines, done := l.lines[i:], l.done
		l.mu.Unlock()
		for _, s := range lines {
			i++
			var m map[string]any
			if json.Unmarshal([]byte(s), &m) == nil {
				if v, ok := match(m); ok {
					return v, nil
				}
			}
		}
		if done {
			return "", fmt.Errorf("the process ended")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testPKI makes a root CA (PEM) and a certificate for 127.0.0.1 it signed.
func testPKI() ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fedtoken tlscheck root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, nil
}
