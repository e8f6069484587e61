package doctor

import (
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
	platformJWT := p.AuthFlow.Info().Subject || p.ClientAuth.Method == oauth.AuthFederated
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
	var dns *net.DNSError
	switch tlsFailure := oauth.ClassifyTLS(err); {
	case tlsFailure != oauth.NoTLSFailure:
		return tlsFailure.Fix()
	case errors.As(err, &dns):
		return "the host name does not resolve: check " + what
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there: check " + what + " and that the IdP is running"
	}
	return "check " + what + " and that it is reachable from here (proxies: HTTPS_PROXY, NO_PROXY)"
}
