package exitcode

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"
)

func TestOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("provider \"p\": jwt_bearer: %w", err) }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"chosen", New(Config, errors.New("x")), Config},
		{"chosen wins over the cause", New(Usage, wrap(&oauth.Error{Code: "invalid_grant"})), Usage},
		{"silent child status", Silent(42), 42},
		{"non-interactive", wrap(login.ErrNonInteractive), LoginRequired},
		{"login required", wrap(provider.ErrLoginRequired), LoginRequired},
		{"expired subject", wrap(&subject.ExpiredError{Source: "kubernetes_sa", Path: "/t", ExpiredAt: time.Unix(0, 0), Now: time.Unix(1, 0)}), Subject},
		{"empty subject", wrap(subject.ErrNoToken), Subject},
		{"subject read failure", wrap(&subject.Error{Source: "exec gcloud", Err: errors.New("exit status 1")}), Subject},
		{"not a JWT", wrap(fmt.Errorf("jwt: %w", jwt.ErrMalformed)), Subject},
		{"missing token file", wrap(&fs.PathError{Op: "open", Path: "/t", Err: syscall.ENOENT}), Subject},
		{"invalid_grant", wrap(&oauth.Error{Code: "invalid_grant", StatusCode: 400}), Rejected},
		{"no refresh token", wrap(login.ErrNoRefreshToken), Rejected},
		{"503 after retries", wrap(&oauth.Error{Code: "temporarily_unavailable", StatusCode: 503}), Network},
		{"connection refused", wrap(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), Network},
		{"dns", wrap(&net.DNSError{Err: "no such host", Name: "idp"}), Network},
		{"untrusted certificate", wrap(x509.UnknownAuthorityError{}), Network},
		{"timeout", wrap(context.DeadlineExceeded), Network},
		{"other", errors.New("boom"), Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
	if !IsSilent(fmt.Errorf("x: %w", Silent(3))) || IsSilent(New(3, errors.New("y"))) {
		t.Error("IsSilent")
	}
}
