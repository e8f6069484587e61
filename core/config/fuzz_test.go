package config

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds both loaders (JSON(C) and YAML syntax, both shapes)
// arbitrary input. Parse must never panic; whatever it accepts must be
// internally consistent and survive a View round trip.
func FuzzParse(f *testing.F) {
	for _, path := range allFixtures(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(path, ".yaml"))
	}
	f.Add([]byte(`{"provider": {"a.b": {"options": {"oauth2": {"issuer": "http://[::1]:1/x", "clientId": "c", "scopes": "a,b c"}}}}}`), false)
	f.Add([]byte("providers:\n  p: {tokenEndpoint: 'https://x/t', clientId: c, authFlow: client_credentials, clientSecretFile: /s, extraParams: {a: b}}\n"), true)

	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		name := "fuzz.json"
		if yaml {
			name = "fuzz.yaml"
		}
		file, err := Parse(data, name)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			for _, fe := range fieldErrors(err) {
				if fe.Path == "" || fe.Msg == "" || fe.File != name {
					t.Fatalf("incomplete FieldError %+v", fe)
				}
			}
			return
		}
		if len(file.Providers) == 0 {
			t.Fatal("accepted a config without providers")
		}
		if !slices.IsSortedFunc(file.Providers, func(a, b Provider) int { return strings.Compare(a.ID, b.ID) }) {
			t.Fatal("providers not sorted by id")
		}
		for i, p := range file.Providers {
			if i > 0 && file.Providers[i-1].ID == p.ID {
				t.Fatalf("duplicate id %q", p.ID)
			}
			if p.ID == "" || p.ClientID == "" || (p.Issuer == "" && p.TokenEndpoint == "") {
				t.Fatalf("required field missing: %+v", p)
			}
			if !slices.Contains(flows, string(p.AuthFlow)) || p.PKCE == nil || p.ClientAuth.OmitClientID == nil || p.HTTPTimeout <= 0 {
				t.Fatalf("defaults not applied: %+v", p)
			}
			if (p.AuthFlow == FlowJWTBearer || p.AuthFlow == FlowTokenExchange) && p.SubjectTokenSource == nil {
				t.Fatalf("%s without subject source", p.AuthFlow)
			}
		}
		checkRoundTrip(t, file)
	})
}
