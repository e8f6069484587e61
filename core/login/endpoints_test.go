package login

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
)

func TestEndpointsDiscovered(t *testing.T) {
	var issuer string
	srv := serve(t, map[string]http.HandlerFunc{
		"/.well-known/openid-configuration": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{
				"issuer":                        issuer,
				"token_endpoint":                issuer + "/token",
				"authorization_endpoint":        issuer + "/authorize",
				"device_authorization_endpoint": issuer + "/device",
			})
		},
		"/device": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"device_code": "d", "user_code": "U", "verification_uri": "https://v"})
		},
		"/token": func(w http.ResponseWriter, r *http.Request) { granted(w) },
	})
	issuer = srv.URL
	ui, _ := recordPrompts()
	d := newDevice(Endpoints{Issuer: issuer}, ui, fakeclock.New())
	if _, err := d.TokenContext(t.Context()); err != nil {
		t.Fatalf("device login with discovered endpoints: %v", err)
	}
	r, err := Endpoints{Issuer: issuer, TokenURL: "https://configured/token"}.resolve(t.Context(), true, false)
	if err != nil || r.token != "https://configured/token" || r.authorization != issuer+"/authorize" {
		t.Errorf("resolve = %+v, %v; a configured URL must win", r, err)
	}
}

func TestEndpointsMissing(t *testing.T) {
	var issuer string
	srv := serve(t, map[string]http.HandlerFunc{
		"/.well-known/openid-configuration": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"issuer": issuer, "token_endpoint": issuer + "/token"})
		},
	})
	issuer = srv.URL
	_, err := Endpoints{Issuer: issuer}.resolve(t.Context(), false, true)
	if err == nil || !strings.Contains(err.Error(), "has no device_authorization_endpoint") {
		t.Fatalf("error = %v, want it to name device_authorization_endpoint", err)
	}
	_, err = Endpoints{}.resolve(t.Context(), true, false)
	if err == nil || !strings.Contains(err.Error(), "no issuer to discover the token_endpoint from") {
		t.Fatalf("error = %v", err)
	}
}
