package oauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
)

// TLSFailure says why a TLS connection to a server failed. Core's errors,
// the CLI's exit codes and `fedtoken doctor` all classify with
// ClassifyTLS.
type TLSFailure int

const (
	// NoTLSFailure: the error is not a TLS failure.
	NoTLSFailure TLSFailure = iota
	// UntrustedCertificate: the certificate is signed by an authority
	// outside the trusted roots.
	UntrustedCertificate
	// WrongHostCertificate: the certificate does not name the host.
	WrongHostCertificate
	// InvalidCertificate: the certificate is expired, not yet valid, or
	// not fit for a server.
	InvalidCertificate
	// NotTLS: the server did not answer in TLS (an https:// URL of a
	// plain-HTTP server).
	NotTLS
)

// ClassifyTLS returns the TLS failure err reports (through any wrapping,
// *url.Error and *tls.CertificateVerificationError included), or
// NoTLSFailure.
func ClassifyTLS(err error) TLSFailure {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return NoTLSFailure
	case errors.As(err, &hostname):
		return WrongHostCertificate
	case errors.As(err, &invalid):
		return InvalidCertificate
	case errors.As(err, &unknown), errors.As(err, &verify):
		return UntrustedCertificate
	case errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		return NotTLS
	}
	return NoTLSFailure
}

// Certificate reports whether f is a problem with the server's
// certificate: final, as retrying cannot change it.
func (f TLSFailure) Certificate() bool {
	return f == UntrustedCertificate || f == WrongHostCertificate || f == InvalidCertificate
}

// Fix says what to do about f, naming the setting to change; "" for
// NoTLSFailure.
func (f TLSFailure) Fix() string {
	switch f {
	case UntrustedCertificate:
		return "the IdP's certificate is not trusted: set caFile to the CA bundle that signed it"
	case WrongHostCertificate:
		return "the certificate does not name this host: use the host name the certificate was issued for"
	case InvalidCertificate:
		return "the certificate is not valid (expired, not yet valid, or not a server certificate): renew it, or check this machine's clock"
	case NotTLS:
		return "the server does not speak TLS: use http:// for a plain-HTTP endpoint (loopback only, or allowInsecureHTTP)"
	}
	return ""
}
