package grant

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// A rejected platform token is described by its trust-relevant claims, so
// a wrong audience shows in the error; the token itself never does.
func TestRejectionShowsPresentedClaims(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	platformJWT := enc([]byte(`{"alg":"RS256"}`)) + "." +
		enc([]byte(`{"iss":"https://cluster.example","sub":"system:serviceaccount:ai-jobs:runner","aud":["https://wrong.example"],"exp":4102444800}`)) +
		".c2lnbmF0dXJl"
	rejected := stubidp.Reply{Status: 400, Body: `{"error":"invalid_grant","error_description":"Invalid token audience"}`}
	clientRejected := stubidp.Reply{Status: 401, Body: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`}

	for _, tc := range []struct {
		name  string
		reply stubidp.Reply
		run   func(s *stubidp.Server) error
	}{
		{name: "jwt_bearer", reply: rejected, run: func(s *stubidp.Server) error {
			_, err := (&JWTBearer{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s),
				Auth: testClientAuth(), Assertion: newFakeSource("k8s", platformJWT)}).TokenContext(context.Background())
			return err
		}},
		{name: "token_exchange", reply: rejected, run: func(s *stubidp.Server) error {
			_, err := (&TokenExchange{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s),
				Auth: testClientAuth(), Subject: newFakeSource("k8s", platformJWT)}).TokenContext(context.Background())
			return err
		}},
		{name: "federated client_credentials", reply: clientRejected, run: func(s *stubidp.Server) error {
			src := newFakeSource("k8s", platformJWT)
			_, err := (&ClientCredentials{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s),
				Auth: oauth.ClientAuth{Method: oauth.AuthFederated, ClientID: "workload", OmitClientID: true,
					Assertion: src.SubjectToken}}).TokenContext(context.Background())
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIdP(t, tc.reply)
			err := tc.run(s)
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			for _, want := range []string{`aud=[https://wrong.example]`, `iss="https://cluster.example"`, `sub="system:serviceaccount:ai-jobs:runner"`} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %s", msg, want)
				}
			}
			if strings.Contains(msg, platformJWT) || strings.Contains(msg, "c2lnbmF0dXJl") {
				t.Errorf("error leaks the platform token: %s", msg)
			}
		})
	}
}
