package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJWTBearerKeyConfig reads authFlow jwt_bearer_key in both shapes.
func TestJWTBearerKeyConfig(t *testing.T) {
	want := Assertion{PrivateKeyFile: "/var/run/secrets/fedtoken/key.pem", KeyID: "k1", Audience: "https://idp.example.com"}
	for _, c := range []struct{ name, data string }{
		{"fedtoken.yaml", `
providers:
  svc:
    issuer: https://idp.example.com
    clientId: svc-account
    authFlow: jwt_bearer_key
    assertion: {privateKeyFile: /var/run/secrets/fedtoken/key.pem, keyId: k1, audience: "https://idp.example.com"}
`},
		{"opencode.json", `{"provider": {"svc": {"options": {"oauth2": {"issuer": "https://idp.example.com", "clientId": "svc-account",
  "authFlow": "jwt_bearer_key", "assertion": {"privateKeyFile": "/var/run/secrets/fedtoken/key.pem", "keyId": "k1", "audience": "https://idp.example.com"}}}}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(c.data), c.name)
			if err != nil {
				t.Fatal(err)
			}
			p := f.Providers[0]
			if p.AuthFlow != FlowJWTBearerKey || p.AuthFlow.Interactive() || p.SubjectTokenSource != nil {
				t.Errorf("flow %s, interactive %v, subject %v", p.AuthFlow, p.AuthFlow.Interactive(), p.SubjectTokenSource)
			}
			if diff := cmp.Diff(want, p.Assertion); diff != "" {
				t.Errorf("assertion (-want +got):\n%s", diff)
			}
			if len(f.Warnings) > 0 {
				t.Errorf("warnings: %v", f.Warnings)
			}
			view, err := f.View()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(view), "privateKeyFile: /var/run/secrets/fedtoken/key.pem") {
				t.Errorf("config view leaves out the key file:\n%s", view)
			}
		})
	}
}

// TestJWTBearerKeyConfigErrors: the key file is required, its section is
// ignored by other flows, and extraParams may not set the assertion.
func TestJWTBearerKeyConfigErrors(t *testing.T) {
	const nPath = "config fedtoken.yaml: providers.svc."
	_, err := Parse([]byte(`
providers:
  svc:
    issuer: https://idp.example.com
    clientId: svc-account
    authFlow: jwt_bearer_key
    assertion: {keyID: k1}
    extraParams: {assertion: x}
`), "fedtoken.yaml")
	want := []string{
		nPath + "assertion.keyID: unknown field; did you mean keyId?",
		nPath + "assertion.privateKeyFile: required when authFlow is jwt_bearer_key (the PEM private key that signs the assertion; its public key is registered for clientId at the IdP)",
		nPath + "extraParams.assertion: is set by fedtoken and cannot be overridden; use assertion.privateKeyFile",
	}
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}

	f, err := Parse([]byte(`
providers:
  svc:
    issuer: https://idp.example.com
    clientId: c
    clientSecretFile: /s
    authFlow: client_credentials
    assertion: {privateKeyFile: /k.pem}
`), "fedtoken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"providers.svc.assertion: ignored: only authFlow jwt_bearer_key uses it"}, f.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestFlowConstantsInTable: every Flow constant has its row in the table
// of flows, and the table has no flow without a constant.
func TestFlowConstantsInTable(t *testing.T) {
	consts := []Flow{FlowAuthorizationCode, FlowDeviceCode, FlowClientCredentials, FlowJWTBearer, FlowTokenExchange, FlowJWTBearerKey}
	for _, f := range consts {
		if f.Info().Name != string(f) {
			t.Errorf("flow %s has no row in grant.Flows", f)
		}
	}
	if len(flows) != len(consts) {
		t.Errorf("grant.Flows has %d flows (%v), config %d constants", len(flows), flows, len(consts))
	}
}
