package oauth

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewHTTPClientTrustsCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(okBody))
	}))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	// Without the CA file the certificate is refused, once, with a hint.
	plain, err := NewHTTPClient(HTTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sleepRecorder{}
	_, err = (&Client{HTTPClient: plain, Retry: RetryPolicy{Sleep: rec.sleep}}).Token(context.Background(), srv.URL+"/token", url.Values{}, ClientAuth{})
	if err == nil || !strings.Contains(err.Error(), "set caFile") {
		t.Fatalf("error = %v, want an untrusted-certificate error naming caFile", err)
	}
	if n := len(rec.recorded()); n != 0 {
		t.Errorf("a certificate error was retried %d times", n)
	}

	withCA, err := NewHTTPClient(HTTPConfig{CAFile: caFile, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("NewHTTPClient: %v", err)
	}
	tok, err := (&Client{HTTPClient: withCA}).Token(context.Background(), srv.URL+"/token", url.Values{}, ClientAuth{})
	if err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("Token with CA file = %v, %v", tok, err)
	}
	if withCA.Timeout != 3*time.Second {
		t.Errorf("Timeout = %v, want 3s", withCA.Timeout)
	}
}

func TestNewHTTPClientSettings(t *testing.T) {
	hc, err := NewHTTPClient(HTTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *http.Transport", hc.Transport)
	}
	if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("TLS config: MinVersion %x, InsecureSkipVerify %v", tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.InsecureSkipVerify)
	}
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Error("Proxy is not http.ProxyFromEnvironment")
	}
	if hc.Timeout != DefaultHTTPTimeout {
		t.Errorf("Timeout = %v, want %v", hc.Timeout, DefaultHTTPTimeout)
	}

	// An explicit proxy function is used as given.
	proxyURL, _ := url.Parse("http://127.0.0.1:3128")
	custom := func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	hc, err = NewHTTPClient(HTTPConfig{Proxy: custom})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := hc.Transport.(*http.Transport).Proxy(&http.Request{URL: &url.URL{Scheme: "https", Host: "idp.example"}})
	if got != proxyURL {
		t.Errorf("proxy = %v, want %v", got, proxyURL)
	}
}

func TestNewHTTPClientCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	noPEM := filepath.Join(dir, "not-pem.crt")
	if err := os.WriteFile(noPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		file, want string
	}{
		{missing, "oauth: CA file: open " + missing},
		{noPEM, "oauth: CA file " + noPEM + " contains no PEM certificates"},
	}
	for _, tt := range tests {
		_, err := NewHTTPClient(HTTPConfig{CAFile: tt.file})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewHTTPClient(%s) error = %v, want %q", tt.file, err, tt.want)
		}
	}
	if _, err := NewHTTPClient(HTTPConfig{CAFile: missing}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}
