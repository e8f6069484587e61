package doctor

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/oauth"
)

func TestExplain(t *testing.T) {
	te := config.Provider{AuthFlow: config.FlowTokenExchange}
	jb := config.Provider{AuthFlow: config.FlowJWTBearer}
	tests := []struct {
		name    string
		err     error
		p       config.Provider
		wantMsg string
		wantFix string
	}{
		{name: "Dex subject_token_type", p: te,
			err:     fmt.Errorf("token_exchange: %w", &oauth.Error{Code: "request_not_supported", Description: "Invalid subject_token_type.", StatusCode: 400}),
			wantMsg: "token_exchange: oauth2: request_not_supported: Invalid subject_token_type. (HTTP 400)",
			wantFix: "set tokenExchange.subjectTokenType: urn:ietf:params:oauth:token-type:id_token"},
		{name: "Keycloak user not linked", p: jb,
			err:     &oauth.Error{Code: "invalid_grant", Description: "User not found"},
			wantFix: "federated identity link"},
		{name: "Keycloak assertion too old", p: jb,
			err:     &oauth.Error{Code: "invalid_grant", Description: "Token was issued too far in the past to be used now"},
			wantFix: "jwtAuthorizationGrantMaxAllowedAssertionExpiration"},
		{name: "mockidp audience pinning", p: jb,
			err:     &oauth.Error{Code: "invalid_grant", Description: "assertion: audience [x] not in allowed [y]"},
			wantFix: "set the projected volume's audience"},
		{name: "Keycloak token reuse", p: jb,
			err:     &oauth.Error{Code: "invalid_client", Description: "Token reuse detected"},
			wantFix: "allow assertion reuse"},
		{name: "server error", p: jb,
			err:     &oauth.Error{Code: "server_error", StatusCode: 503},
			wantFix: "HTTP 503"},
		{name: "unknown", p: jb, err: &oauth.Error{Code: "weird"}, wantFix: "run with -v"},
		{name: "connection refused", p: jb,
			err:     fmt.Errorf("oauth: POST x: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}),
			wantFix: "nothing listens there"},
		{name: "dns", p: jb, err: &net.DNSError{Err: "no such host", Name: "idp"}, wantFix: "does not resolve"},
		{name: "plain", p: jb, err: errors.New("boom"), wantMsg: "boom", wantFix: "reachable from here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, fix := explain(tt.err, tt.p)
			if tt.wantMsg != "" && msg != tt.wantMsg {
				t.Errorf("msg = %q, want %q", msg, tt.wantMsg)
			}
			if !strings.Contains(fix, tt.wantFix) {
				t.Errorf("fix = %q, want it to contain %q", fix, tt.wantFix)
			}
		})
	}
}

// TestKubeletProjected: only pod-bound tokens are rotated by the kubelet;
// a TokenRequest token (kubectl create token) carries kubernetes.io but no pod.
func TestKubeletProjected(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]any
		want bool
	}{
		{map[string]any{"kubernetes.io": map[string]any{"namespace": "a", "pod": map[string]any{"name": "p"}}}, true},
		{map[string]any{"kubernetes.io": map[string]any{"namespace": "a", "serviceaccount": map[string]any{"name": "s"}}}, false},
		{map[string]any{"sub": "repo:org/x"}, false},
	} {
		if got := kubeletProjected(jwt.Claims{Raw: tc.raw}); got != tc.want {
			t.Errorf("kubeletProjected(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
