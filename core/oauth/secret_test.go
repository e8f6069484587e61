package oauth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/oauth"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "s3cr3t-value"
	s := oauth.Secret(value)
	type holder struct {
		ClientSecret oauth.Secret `json:"clientSecret"`
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("msg", "secret", s, "holder", holder{s})
	js, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%s": fmt.Sprintf("%s", s), "%v": fmt.Sprintf("%v", s), "%q": fmt.Sprintf("%q", s),
		"%x": fmt.Sprintf("%x", s), "%#v": fmt.Sprintf("%#v", s), "%+v struct": fmt.Sprintf("%+v", holder{s}),
		"String": s.String(), "json": string(js), "slog": logged.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("%s leaks the secret: %s", how, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s shows no placeholder: %s", how, out)
		}
	}
	if s.Reveal() != value {
		t.Error("Reveal does not return the value")
	}
	var back oauth.Secret
	if err := back.UnmarshalText([]byte(value)); err != nil || back.Reveal() != value {
		t.Error("UnmarshalText does not keep the value")
	}
	if oauth.Secret("").String() != "" {
		t.Error("an empty secret should print as empty")
	}
}
