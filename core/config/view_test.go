package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// allFixtures are every valid config under testdata.
func allFixtures(t testing.TB) []string {
	var out []string
	for _, pat := range []string{"testdata/opencode/*", "testdata/native/*", "testdata/docs/*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			if !strings.Contains(filepath.Base(p), "invalid") {
				out = append(out, p)
			}
		}
	}
	if len(out) < 6 {
		t.Fatalf("only %d fixtures found", len(out))
	}
	return out
}

// TestViewRoundTrip: View renders a native config that parses back to the
// same providers, with every client secret replaced by [REDACTED].
func TestViewRoundTrip(t *testing.T) {
	for _, path := range allFixtures(t) {
		t.Run(path, func(t *testing.T) {
			f := mustLoad(t, path)
			checkRoundTrip(t, f)
		})
	}
}

func checkRoundTrip(t testing.TB, f *File) {
	t.Helper()
	view, err := f.View()
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	back, err := Parse(view, "view.yaml")
	if err != nil {
		t.Fatalf("parsing the view failed: %v\n%s", err, view)
	}
	want := make([]Provider, len(f.Providers))
	for i, p := range f.Providers {
		want[i] = p.clone()
		if p.ClientSecret != "" {
			if strings.Contains(string(view), p.ClientSecret.Reveal()) {
				t.Fatalf("view reveals the client secret of %s:\n%s", p.ID, view)
			}
			want[i].ClientSecret = "[REDACTED]"
		}
	}
	// The view resolves auto client authentication and leaves out what the
	// flow does not use: compare what the providers do.
	got := make([]Provider, len(back.Providers))
	for i := range want {
		want[i] = want[i].viewed()
	}
	for i, p := range back.Providers {
		got[i] = p.viewed()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("view does not parse back to the same providers (-want +got):\n%s\nview:\n%s", diff, view)
	}
	if back.Cache != f.Cache {
		t.Fatalf("cache %+v became %+v", f.Cache, back.Cache)
	}
	if !jsonEqual(f.Sidecar, back.Sidecar) {
		t.Fatalf("sidecar %s became %s", f.Sidecar, back.Sidecar)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y)
}

func TestViewShape(t *testing.T) {
	f, err := Parse([]byte(`
cache: {namespace: ns}
providers:
  p:
    issuer: https://idp.example.com
    clientId: c
    clientSecret: `+secretValue+`
    authFlow: jwt_bearer
    subjectTokenSource: {type: exec, command: [get-token]}
`), "fedtoken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	view, err := f.View()
	if err != nil {
		t.Fatal(err)
	}
	want := `providers:
  p:
    id: p
    name: p
    issuer: https://idp.example.com
    clientId: c
    clientSecret: '[REDACTED]'
    authFlow: jwt_bearer
    clientAuth:
      method: client_secret_basic
    subjectTokenSource:
      type: exec
      command:
      - get-token
      timeout: 10s
    httpTimeout: 15s
    tokenExpirySkew: 30s
cache:
  namespace: ns
`
	if diff := cmp.Diff(want, string(view)); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}

	// No other way of printing a provider reveals the secret either.
	p := f.Providers[0]
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("provider", "p", p, "secret", p.ClientSecret)
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"%v": fmt.Sprintf("%v", p), "%+v": fmt.Sprintf("%+v", p), "%#v": fmt.Sprintf("%#v", p),
		"json": string(js), "slog": logged.String(),
	} {
		if strings.Contains(s, secretValue) {
			t.Errorf("%s reveals the secret: %s", name, s)
		}
	}
}
