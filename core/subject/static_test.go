package subject

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	tests := []struct {
		name    string
		src     Static
		want    string
		wantIs  error
		wantErr []string
	}{
		{name: "jwt", src: Static(freshJWT), want: freshJWT},
		{name: "trimmed", src: Static("\ufeff " + opaqueToken + "\r\n"), want: opaqueToken},
		{name: "expired jwt passes: no check for Static", src: Static(expiredJWT), want: expiredJWT},
		{name: "empty", src: "", wantIs: ErrNoToken, wantErr: []string{"subject: static: the token is empty: no subject token"}},
		{name: "whitespace only", src: " \n\t", wantIs: ErrNoToken, wantErr: []string{"subject: static:"}},
		{name: "two tokens", src: Static(opaqueToken + "\n" + freshJWT), wantErr: []string{"subject: static: token spans several lines (line break at byte 31); the source must hold exactly one token and nothing else"}},
		{name: "space inside", src: Static("abc def"), wantErr: []string{"subject: static: token has whitespace, a control character or invalid UTF-8 at byte 3"}},
		{name: "bearer prefix", src: Static("Bearer " + opaqueToken), wantErr: []string{`subject: static: token starts with "Bearer "`}},
		{name: "too large", src: Static(strings.Repeat("a", MaxTokenSize+1)), wantErr: []string{"subject: static: larger than 64 KiB"}},
		{name: "exactly the limit", src: Static(strings.Repeat("a", MaxTokenSize)), want: strings.Repeat("a", MaxTokenSize)},
		{name: "invalid UTF-8", src: Static("tok\xffen"), wantErr: []string{"subject: static: token has whitespace, a control character or invalid UTF-8 at byte 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.src.SubjectToken(context.Background())
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantIs, tt.wantErr...)
				assertNoSecret(t, err, string(tt.src), opaqueToken, freshJWT)
				if got != "" {
					t.Errorf("got a token along with the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("token = %.20q…, want %.20q…", got, tt.want)
			}
		})
	}
}

func TestStaticNeverPrintsItself(t *testing.T) {
	s := Static(opaqueToken)
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, opaqueToken) || strings.Contains(out, fmt.Sprintf("%x", opaqueToken)) {
			t.Errorf("fmt %s prints the token: %s", verb, out)
		}
	}
	var src Source = s
	if src.String() != "static" {
		t.Errorf("String() = %q", src.String())
	}
}
