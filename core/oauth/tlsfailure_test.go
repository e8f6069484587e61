package oauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// TestClassifyTLS classifies the errors of real handshakes on loopback.
func TestClassifyTLS(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	quiet := log.New(io.Discard, "", 0) // refused handshakes are the point
	srv := httptest.NewUnstartedServer(ok)
	srv.Config.ErrorLog = quiet
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// wrongHost trusts srv's certificate (127.0.0.1, ::1, example.com) but
	// expects another name.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "idp.example.org"
	wrongHost := &http.Client{Transport: tr}

	expired := httptest.NewUnstartedServer(ok)
	expired.TLS = &tls.Config{Certificates: []tls.Certificate{expiredCert(t)}}
	expired.Config.ErrorLog = quiet
	expired.StartTLS()
	t.Cleanup(expired.Close)
	roots := x509.NewCertPool()
	roots.AddCert(expired.TLS.Certificates[0].Leaf)
	trustsExpired := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	plain := httptest.NewServer(ok)
	t.Cleanup(plain.Close)

	tests := []struct {
		name   string
		client *http.Client
		url    string
		want   oauth.TLSFailure
		fix    string
	}{
		{"untrusted", &http.Client{}, srv.URL, oauth.UntrustedCertificate, "set caFile"},
		{"wrong host", wrongHost, srv.URL, oauth.WrongHostCertificate, "host name"},
		{"expired", trustsExpired, expired.URL, oauth.InvalidCertificate, "expired"},
		{"plain HTTP server", &http.Client{}, strings.Replace(plain.URL, "http://", "https://", 1), oauth.NotTLS, "use http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if err == nil {
				resp.Body.Close()
				t.Fatal("request succeeded")
			}
			got := oauth.ClassifyTLS(err)
			if got != tt.want {
				t.Fatalf("ClassifyTLS(%v) = %d, want %d", err, got, tt.want)
			}
			if !strings.Contains(got.Fix(), tt.fix) {
				t.Errorf("Fix() = %q, want it to say %q", got.Fix(), tt.fix)
			}
			if got.Certificate() != (tt.want != oauth.NotTLS) {
				t.Errorf("Certificate() = %v", got.Certificate())
			}
		})
	}

	for _, err := range []error{nil, errors.New("connection refused"), &net.DNSError{Err: "no such host", Name: "idp.invalid"}} {
		if got := oauth.ClassifyTLS(err); got != oauth.NoTLSFailure || got.Fix() != "" || got.Certificate() {
			t.Errorf("ClassifyTLS(%v) = %d, fix %q", err, got, got.Fix())
		}
	}
}

// expiredCert is a self-signed certificate for 127.0.0.1 that expired an
// hour ago.
func expiredCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "expired"},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(-time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
