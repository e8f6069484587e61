package doctor

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"syscall"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// explain returns the IdP's answer (without the grant's hint, which
// becomes the fix) and what to do about it.
func explain(err error, p config.Provider) (msg, fix string) {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return err.Error(), networkFix(err, "the IdP's URL")
	}
	msg = string(p.AuthFlow) + ": " + oe.Error()
	platformJWT := p.AuthFlow.Info().Subject || p.ClientAuth.Method == config.ClientAuthFederated
	if h := grant.Advice(err, platformJWT); h != "" {
		return msg, h
	}
	if oe.Retryable() {
		return msg, "the IdP is failing (HTTP " + strconv.Itoa(oe.StatusCode) + "): try again later, or check its logs"
	}
	return msg, "read the IdP's description; run with -v for more detail"
}

// networkFix says what to check when an endpoint cannot be reached.
func networkFix(err error, what string) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		dns      *net.DNSError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &verify):
		return "the IdP's certificate is not trusted: set caFile to the CA bundle that signed it"
	case errors.As(err, &hostname):
		return "the certificate does not name this host: use the host name the certificate was issued for"
	case errors.As(err, &record):
		return "the server does not speak TLS: use http:// for a plain-HTTP endpoint (loopback only, or allowInsecureHTTP)"
	case errors.As(err, &dns):
		return "the host name does not resolve: check " + what
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there: check " + what + " and that the IdP is running"
	}
	return "check " + what + " and that it is reachable from here (proxies: HTTPS_PROXY, NO_PROXY)"
}
