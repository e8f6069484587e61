package exitcode

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"syscall"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"
)

// Of returns the exit status for err: 0 for nil, the code of an *Error
// a command chose, else the class of the cause (see the constants).
func Of(err error) int {
	if err == nil {
		return OK
	}
	var chosen *Error
	if errors.As(err, &chosen) {
		return chosen.Code
	}
	var (
		subjErr *subject.Error
		expired *subject.ExpiredError
		oe      *oauth.Error
		dnsErr  *net.DNSError
		opErr   *net.OpError
	)
	switch {
	case errors.Is(err, login.ErrNonInteractive), errors.Is(err, provider.ErrLoginRequired):
		return LoginRequired
	case errors.As(err, &subjErr), errors.As(err, &expired), errors.Is(err, subject.ErrNoToken), errors.Is(err, jwt.ErrMalformed):
		return Subject
	case errors.As(err, &oe):
		if oe.Retryable() {
			return Network
		}
		return Rejected
	case errors.Is(err, login.ErrNoRefreshToken):
		return Rejected
	case oauth.ClassifyTLS(err) != oauth.NoTLSFailure, errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.Is(err, context.DeadlineExceeded),
		// A connection closed before or during the response.
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Network
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		// Configuration files are classified where they are read
		// (LoadConfig, OpenProvider); a file missing later is the
		// subject token's (or exec's command).
		return Subject
	}
	return Failure
}
