package grant

import (
	"strings"
	"testing"
)

// TestFlowsTable checks the rows that every reader of the table relies on.
func TestFlowsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Flows {
		if f.Name == "" || seen[f.Name] {
			t.Errorf("flow %q: empty or repeated name", f.Name)
		}
		seen[f.Name] = true
		if f.GrantType == "" {
			t.Errorf("flow %s: no grant_type", f.Name)
		}
		if f.Summary == "" || len(f.Summary) > 58 {
			t.Errorf("flow %s: summary %q must be 1 to 58 characters (fedtoken --help)", f.Name, f.Summary)
		}
		if f.Interactive && (f.Subject || f.NeedsClientAuth) {
			t.Errorf("flow %s: an interactive flow presents no subject token and needs no client authentication of its own", f.Name)
		}
		if (f.Endpoint != "") != f.Interactive {
			t.Errorf("flow %s: interactive flows, and only they, name their extra endpoint", f.Name)
		}
		for k := range f.Owns {
			if _, ok := f.Sets[k]; ok {
				t.Errorf("flow %s: parameter %s is both in Sets and Owns", f.Name, k)
			}
		}
		got, ok := LookupFlow(f.Name)
		if !ok || got.Name != f.Name {
			t.Errorf("LookupFlow(%q) = %q, %v", f.Name, got.Name, ok)
		}
	}
	if _, ok := LookupFlow("password"); ok {
		t.Error(`LookupFlow("password") found a row`)
	}
	for _, name := range strings.Split(MachineFlows(""), ", ") {
		if f, _ := LookupFlow(name); f.Interactive || f.Name == "" {
			t.Errorf("MachineFlows lists %q, which is not a machine flow", name)
		}
	}
	if got := MachineFlows(""); !strings.HasPrefix(got, "jwt_bearer, token_exchange, client_credentials") {
		t.Errorf(`MachineFlows("") = %q, want the platform-JWT flows first`, got)
	}
	if got := MachineFlows("or"); !strings.Contains(got, ", token_exchange") || !strings.Contains(got, " or ") {
		t.Errorf(`MachineFlows("or") = %q`, got)
	}
	if got := UsedBy("tokenExchange"); len(got) != 1 || got[0] != nameTokenExchange {
		t.Errorf("UsedBy(tokenExchange) = %v", got)
	}
}
