package oauth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// DefaultHTTPTimeout bounds one HTTP exchange with an IdP when no timeout
// is configured (the upstream plugin's httpTimeoutMs default).
const DefaultHTTPTimeout = 15 * time.Second

// HTTPConfig configures the HTTP client used to reach one IdP.
type HTTPConfig struct {
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string
	// Timeout bounds each request; zero means DefaultHTTPTimeout.
	Timeout time.Duration
	// Proxy chooses a proxy per request; nil means http.ProxyFromEnvironment
	// (HTTPS_PROXY, HTTP_PROXY and NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
}

// NewHTTPClient returns an HTTP client for talking to an IdP: TLS 1.2 or
// newer with certificate verification, the system roots plus cfg.CAFile,
// the environment's proxy settings, and a per-request timeout.
func NewHTTPClient(cfg HTTPConfig) (*http.Client, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := CertPool(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}
	proxy := cfg.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: transport, Timeout: timeout}, nil
}

// CertPool returns the system roots (or an empty pool where the system has
// none) with the certificates of the PEM file added: what a CAFile setting
// means everywhere (IdP clients here, the sidecar's upstream proxies).
func CertPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("oauth: CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("oauth: CA file %s contains no PEM certificates", file)
	}
	return pool, nil
}
