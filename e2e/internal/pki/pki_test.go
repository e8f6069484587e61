package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServingCertIsTrustedByCA(t *testing.T) {
	ca, err := NewCA("fedtoken-e2e-test-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(LeafSpec{CommonName: "apiserver", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}, Server: true})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := KeyPEM(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(CertPEM(leaf.Cert), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(CertPEM(ca.Cert)) {
		t.Fatal("CA PEM did not parse")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with the CA as root: %v", err)
	}
	resp.Body.Close()

	// A client with an unrelated CA must refuse the server.
	other, err := NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool2 := x509.NewCertPool()
	pool2.AppendCertsFromPEM(CertPEM(other.Cert))
	client2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool2}}}
	if resp, err := client2.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Fatal("an unrelated CA was accepted")
	}
}

func TestIssueNeedsUsage(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(LeafSpec{CommonName: "x"}); err == nil || !strings.Contains(err.Error(), "x") {
		t.Fatalf("err = %v, want an error naming the leaf", err)
	}
	l, err := ca.Issue(LeafSpec{CommonName: "system:node:n", Organization: []string{"system:nodes"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Cert.Subject.Organization; len(got) != 1 || got[0] != "system:nodes" {
		t.Errorf("organization = %v", got)
	}
	if _, err := l.Cert.Verify(x509.VerifyOptions{Roots: poolOf(ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client cert does not verify for client auth: %v", err)
	}
}

func TestWriteLeafAndSAKey(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ca.Issue(LeafSpec{CommonName: "s", Server: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if err := WriteLeaf(dir, "s", l); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "s.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
	sa, err := NewServiceAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := PublicKeyPEM(&sa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pub), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("public key PEM = %q", pub)
	}
}

func poolOf(ca *CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
