package fedtoken_test

import (
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/mockidp"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

func TestDoctorPasses(t *testing.T) {
	h := newHarness(t)
	r := h.run("doctor")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, "doctor-all", h.normalise(r.stdout))
	if h.tokenRequests(t, "") != 2 {
		t.Errorf("token requests = %d, want one dry run per machine provider", h.tokenRequests(t, ""))
	}
	// The dry run caches nothing.
	if list := h.run("cache", "list"); strings.Contains(list.stdout, "valid") {
		t.Errorf("doctor cached a token:\n%s", list.stdout)
	}
}

func TestDoctorFindsProblems(t *testing.T) {
	h := newHarness(t)
	// The cluster also mints a token for another audience.
	wrongAud, err := h.idp.Cluster().Mint(mockidp.ServiceAccountToken{
		Namespace: "ai-jobs", ServiceAccount: "opencode-runner", Audiences: []string{"https://kubernetes.default.svc"}, Pod: "p",
	})
	if err != nil {
		t.Fatal(err)
	}
	h.writeFile("wrong-aud.jwt", wrongAud)
	closedPortAud, err := h.idp.Cluster().Mint(mockidp.ServiceAccountToken{
		Namespace: "ai-jobs", ServiceAccount: "opencode-runner", Audiences: []string{"http://127.0.0.1:1/idp"}, Pod: "p",
	})
	if err != nil {
		t.Fatal(err)
	}
	h.writeFile("closed-port-aud.jwt", closedPortAud)
	h.config = h.writeConfig(`providers:
  wrong-aud:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: file, path: {{DIR}}/wrong-aud.jwt}
  no-token:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{DIR}}/none/token}
  bad-secret:
    issuer: {{IDP}}
    clientId: exchanger
    clientSecret: wrong
    authFlow: token_exchange
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
  unreachable:
    issuer: http://127.0.0.1:1/idp
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: file, path: {{DIR}}/closed-port-aud.jwt}
`)
	tests := []struct {
		id   string
		code int
	}{
		{"wrong-aud", exitcode.Subject},
		{"no-token", exitcode.Subject},
		{"bad-secret", exitcode.Rejected},
		{"unreachable", exitcode.Network},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			before := h.tokenRequests(t, "")
			r := h.run("doctor", tt.id)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			golden(t, "doctor-"+tt.id, h.normalise(r.stdout))
			if tt.id == "no-token" && h.tokenRequests(t, "") != before {
				t.Error("doctor sent a token request without a subject token")
			}
		})
	}
}

func TestDoctorOffline(t *testing.T) {
	h := newHarness(t)
	r := h.run("doctor", "jb", "--offline")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	if n := h.idpRequests(); n != 0 {
		t.Errorf("--offline made %d requests to the IdP", n)
	}
	if !strings.Contains(r.stdout, "skipped (--offline)") {
		t.Errorf("output:\n%s", r.stdout)
	}
}
