package login

import (
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/oauth"
)

func parseProvider(t *testing.T, yaml string) config.Provider {
	t.Helper()
	f, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	p, err := f.Provider("")
	if err != nil {
		t.Fatal(err)
	}
	return *p
}

func TestNewDeviceCode(t *testing.T) {
	p := parseProvider(t, `
providers:
  laptop:
    issuer: https://idp.example/realms/dev
    deviceAuthorizationEndpoint: https://idp.example/device
    clientId: cli
    scopes: [openid, offline_access]
    authFlow: device_code
    extraParams: {audience: api}
`)
	ui := UI{Show: func(Prompt) {}}
	src, err := New(p, Options{UI: ui})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := src.(*DeviceCode)
	if !ok {
		t.Fatalf("New = %T, want *DeviceCode", src)
	}
	if d.Issuer != p.Issuer || d.DeviceAuthorizationURL != "https://idp.example/device" || d.TokenURL != "" ||
		d.Discovery == nil || d.DisablePKCE || d.Params.Get("audience") != "api" ||
		strings.Join(d.Scopes, " ") != "openid offline_access" || d.Auth.ClientID != "cli" ||
		d.Auth.Effective() != oauth.AuthNone || d.UI.Show == nil {
		t.Errorf("DeviceCode = %+v", d)
	}
}

func TestNewAuthCode(t *testing.T) {
	p := parseProvider(t, `
providers:
  laptop:
    issuer: https://idp.example
    clientId: cli
    clientSecret: s3cret
    clientAuth: {method: client_secret_post}
    authFlow: authorization_code
    pkce: false
    redirectPort: 8765
`)
	src, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := src.(*AuthCode)
	if !ok {
		t.Fatalf("New = %T, want *AuthCode", src)
	}
	if !a.DisablePKCE || a.RedirectPort != 8765 || a.Auth.ClientSecret.Reveal() != "s3cret" ||
		a.Auth.Method != oauth.AuthClientSecretPost {
		t.Errorf("AuthCode = %+v", a)
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{name: "machine flow", want: "authFlow jwt_bearer needs no login", yaml: `
providers:
  p: {issuer: "https://idp.example", clientId: c, authFlow: jwt_bearer, subjectTokenSource: {type: file, path: /t}}
`},
		{name: "private_key_jwt", want: "clientAuth.method private_key_jwt is not supported", yaml: `
providers:
  p: {issuer: "https://idp.example", clientId: c, authFlow: device_code, clientAuth: {method: private_key_jwt, privateKeyFile: /k.pem}}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(parseProvider(t, tt.yaml), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
