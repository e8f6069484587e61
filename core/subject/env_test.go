package subject

import (
	"context"
	"strings"
	"testing"
)

func TestEnv(t *testing.T) {
	vars := map[string]string{
		"WORKLOAD_ID_TOKEN": " " + freshJWT + "\n",
		"OPAQUE":            opaqueToken,
		"EXPIRED":           expiredJWT,
		"EMPTY":             "",
		"HUGE":              strings.Repeat("x", MaxTokenSize+1),
		"TWO":               opaqueToken + " " + freshJWT,
	}
	getenv := func(k string) string { return vars[k] }
	tests := []struct {
		name    string
		src     Env
		want    string
		wantIs  error
		wantErr []string
	}{
		{name: "jwt trimmed", src: Env{Name: "WORKLOAD_ID_TOKEN"}, want: freshJWT},
		{name: "opaque", src: Env{Name: "OPAQUE"}, want: opaqueToken},
		{name: "unset", src: Env{Name: "UNSET"}, wantIs: ErrNoToken, wantErr: []string{"subject: env UNSET: the variable is unset or empty (in GitLab CI, declare it under the job's id_tokens): no subject token"}},
		{name: "empty", src: Env{Name: "EMPTY"}, wantIs: ErrNoToken, wantErr: []string{"subject: env EMPTY: the variable is unset or empty"}},
		{name: "too large", src: Env{Name: "HUGE"}, wantErr: []string{"subject: env HUGE: value larger than 64 KiB, the limit for a subject token"}},
		{name: "two values", src: Env{Name: "TWO"}, wantErr: []string{"subject: env TWO: token has whitespace, a control character or invalid UTF-8 at byte 31; the variable must hold exactly one token"}},
		{name: "expired", src: Env{Name: "EXPIRED"}, wantErr: []string{"subject: env EXPIRED: token expired at 2026-11-26T09:55:00Z (5m0s ago); a variable is set once when the process starts"}},
		{name: "no name", src: Env{}, wantErr: []string{"subject: env: no variable name configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Getenv, tt.src.Now = getenv, fixedNow
			got, err := tt.src.SubjectToken(context.Background())
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantIs, tt.wantErr...)
				assertNoSecret(t, err, freshJWT, expiredJWT, opaqueToken)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("token = %.30q…, want %.30q…", got, tt.want)
			}
		})
	}
}

func TestEnvRereadsOnEveryCall(t *testing.T) {
	value := opaqueToken
	src := Env{Name: "TOKEN", Getenv: func(string) string { return value }, Now: fixedNow}
	for _, want := range []string{opaqueToken, freshJWT} {
		value = want
		got, err := src.SubjectToken(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("token = %.20q…, want %.20q…: the source cached a value", got, want)
		}
	}
}

func TestEnvDefaultsToOSGetenv(t *testing.T) {
	t.Setenv("FEDTOKEN_SUBJECT_TEST_TOKEN", opaqueToken)
	got, err := Env{Name: "FEDTOKEN_SUBJECT_TEST_TOKEN"}.SubjectToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != opaqueToken {
		t.Errorf("token = %q, want the variable's value", got)
	}
}
