package subject

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile creates dir/name with content and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFileSources(t *testing.T) {
	type srcFunc func(path string) Source
	file := func(p string) Source { return File{Path: p, Now: fixedNow} }
	kube := func(p string) Source { return KubernetesSA{Path: p, Now: fixedNow} }

	tests := []struct {
		name string
		// setup returns the path to read; nothing is created unless setup does.
		setup   func(t *testing.T, dir string) string
		src     srcFunc
		want    string
		wantIs  error
		wantErr []string // substrings; "$P" is replaced by the path, "$D" by its directory
	}{
		{
			name:  "file jwt",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", freshJWT) },
			src:   file, want: freshJWT,
		},
		{
			name:  "file trimmed, CRLF and BOM",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", "\ufeff  "+freshJWT+"\r\n\n") },
			src:   file, want: freshJWT,
		},
		{
			name:  "opaque token passes unchecked",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", opaqueToken+"\n") },
			src:   kube, want: opaqueToken,
		},
		{
			name:  "jwt without exp passes",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", testJWT(`{"sub":"x"}`)) },
			src:   kube, want: testJWT(`{"sub":"x"}`),
		},
		{
			name:  "three segments that are not a JWT pass",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", "abc.def.ghi") },
			src:   file, want: "abc.def.ghi",
		},
		{
			name: "exactly the size limit",
			setup: func(t *testing.T, d string) string {
				return writeFile(t, d, "token", strings.Repeat("x", MaxTokenSize))
			},
			src: file, want: strings.Repeat("x", MaxTokenSize),
		},
		{
			name: "one byte over the size limit",
			setup: func(t *testing.T, d string) string {
				return writeFile(t, d, "token", strings.Repeat("x", MaxTokenSize+1))
			},
			src:     file,
			wantErr: []string{"subject: file $P: larger than 64 KiB, the limit for a subject token: is this the right file?"},
		},
		{
			name:    "empty file",
			setup:   func(t *testing.T, d string) string { return writeFile(t, d, "token", "") },
			src:     file,
			wantIs:  ErrNoToken,
			wantErr: []string{"subject: file $P: the file is empty: no subject token"},
		},
		{
			name:    "whitespace-only kubernetes token",
			setup:   func(t *testing.T, d string) string { return writeFile(t, d, "token", "\n \n") },
			src:     kube,
			wantIs:  ErrNoToken,
			wantErr: []string{"subject: kubernetes_sa $P: the token file is empty: no subject token"},
		},
		{
			name:    "two tokens in a file",
			setup:   func(t *testing.T, d string) string { return writeFile(t, d, "token", freshJWT+"\n"+opaqueToken) },
			src:     file,
			wantErr: []string{"subject: file $P: token spans several lines", "the file must hold exactly one token"},
		},
		{
			name:    "Authorization header value saved as the token",
			setup:   func(t *testing.T, d string) string { return writeFile(t, d, "token", "Bearer "+freshJWT) },
			src:     file,
			wantErr: []string{`subject: file $P: token starts with "Bearer "; the file must hold the bare token`},
		},
		{
			name:    "file missing",
			setup:   func(t *testing.T, d string) string { return filepath.Join(d, "nope") },
			src:     file,
			wantIs:  fs.ErrNotExist,
			wantErr: []string{"subject: file $P: no such file or directory"},
		},
		{
			name:   "kubernetes volume not mounted",
			setup:  func(t *testing.T, d string) string { return filepath.Join(d, "tokens", "oauth2", "token") },
			src:    kube,
			wantIs: fs.ErrNotExist,
			wantErr: []string{
				"subject: kubernetes_sa $P: no such file or directory: the projected ServiceAccount token volume is probably not mounted",
				"serviceAccountToken source (audience, expirationSeconds, path: token) mounted at $D",
				"set subjectTokenSource.tokenPath",
			},
		},
		{
			name: "kubernetes volume mounted, token under another name",
			setup: func(t *testing.T, d string) string {
				writeFile(t, d, "sa-token", freshJWT)
				return filepath.Join(d, "token")
			},
			src:     kube,
			wantIs:  fs.ErrNotExist,
			wantErr: []string{`subject: kubernetes_sa $P: no such file or directory: the directory $D exists but holds no "token": check the path of the serviceAccountToken source`},
		},
		{
			name:    "kubernetes tokenPath names the mount directory",
			setup:   func(t *testing.T, d string) string { return d },
			src:     kube,
			wantErr: []string{"subject: kubernetes_sa $P: is a directory, not a token file: tokenPath must name the token file inside the volume (e.g. /var/run/secrets/tokens/oauth2/token)"},
		},
		{
			name:    "file path is a directory",
			setup:   func(t *testing.T, d string) string { return d },
			src:     file,
			wantErr: []string{"subject: file $P: is a directory, not a token file"},
		},
		{
			name:  "expired kubernetes token",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", expiredJWT) },
			src:   kube,
			wantErr: []string{
				"subject: kubernetes_sa $P: token expired at 2026-11-26T09:55:00Z (5m0s ago); the kubelet should have rotated it",
				"check the kubelet logs for TokenProjection errors and the expirationSeconds of the pod's serviceAccountToken projected volume",
			},
		},
		{
			name:    "expired file token",
			setup:   func(t *testing.T, d string) string { return writeFile(t, d, "token", expiredJWT) },
			src:     file,
			wantErr: []string{"subject: file $P: token expired at 2026-11-26T09:55:00Z (5m0s ago); whatever writes this file has stopped refreshing it"},
		},
		{
			name: "expired, but within the leeway",
			setup: func(t *testing.T, d string) string {
				return writeFile(t, d, "token", jwtExpiring(testNow.Add(-20*time.Second)))
			},
			src:  func(p string) Source { return File{Path: p, Now: fixedNow, Leeway: 30 * time.Second} },
			want: jwtExpiring(testNow.Add(-20 * time.Second)),
		},
		{
			name: "expired beyond the leeway",
			setup: func(t *testing.T, d string) string {
				return writeFile(t, d, "token", jwtExpiring(testNow.Add(-40*time.Second)))
			},
			src:     func(p string) Source { return KubernetesSA{Path: p, Now: fixedNow, Leeway: 30 * time.Second} },
			wantErr: []string{"token expired at 2026-11-26T09:59:20Z (40s ago)"},
		},
		{
			name:  "expires exactly now: still valid",
			setup: func(t *testing.T, d string) string { return writeFile(t, d, "token", jwtExpiring(testNow)) },
			src:   kube, want: jwtExpiring(testNow),
		},
		{
			name:    "file without path",
			setup:   func(t *testing.T, d string) string { return "" },
			src:     file,
			wantErr: []string{"subject: file: no path configured"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.setup(t, t.TempDir())
			got, err := tt.src(p).SubjectToken(context.Background())
			if tt.wantErr != nil {
				want := make([]string, len(tt.wantErr))
				for i, w := range tt.wantErr {
					w = strings.ReplaceAll(w, "$P", p)
					want[i] = strings.ReplaceAll(w, "$D", filepath.Dir(p))
				}
				assertErr(t, err, tt.wantIs, want...)
				assertNoSecret(t, err, freshJWT, expiredJWT, opaqueToken)
				if got != "" {
					t.Error("got a token along with the error")
				}
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

func TestExpiredErrorFields(t *testing.T) {
	p := writeFile(t, t.TempDir(), "token", expiredJWT)
	_, err := KubernetesSA{Path: p, Now: fixedNow}.SubjectToken(context.Background())
	var ee *ExpiredError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is not an *ExpiredError", err)
	}
	want := ExpiredError{Source: "kubernetes_sa", Path: p, ExpiredAt: testNow.Add(-5 * time.Minute), Now: testNow}
	if ee.Source != want.Source || ee.Path != want.Path || !ee.ExpiredAt.Equal(want.ExpiredAt) || !ee.Now.Equal(want.Now) {
		t.Errorf("ExpiredError = %+v, want %+v", *ee, want)
	}
}

func TestFilePermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	p := writeFile(t, t.TempDir(), "token", freshJWT)
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err := KubernetesSA{Path: p}.SubjectToken(context.Background())
	assertErr(t, err, fs.ErrPermission, "subject: kubernetes_sa "+p+": permission denied: the token is not readable by uid", "fsGroup")
	_, err = File{Path: p}.SubjectToken(context.Background())
	assertErr(t, err, fs.ErrPermission, "subject: file "+p+": permission denied")
}

func TestStrings(t *testing.T) {
	tests := []struct {
		src  Source
		want string
	}{
		{KubernetesSA{}, "kubernetes_sa /var/run/secrets/tokens/oauth2/token"},
		{KubernetesSA{Path: "/var/run/secrets/tokens/oauth2/prod-token"}, "kubernetes_sa /var/run/secrets/tokens/oauth2/prod-token"},
		{&File{Path: "/tmp/tok"}, "file /tmp/tok"},
		{Env{Name: "WORKLOAD_ID_TOKEN"}, "env WORKLOAD_ID_TOKEN"},
		{GitHubActions{Audience: "https://idp.example"}, "github_actions audience=https://idp.example"},
		{GitHubActions{}, "github_actions (default audience)"},
		{Exec{}, "exec (no command)"},
		{Exec{Command: []string{"print-token"}}, "exec print-token"},
		{Exec{Command: []string{"vault", "--token=s3cr3t"}}, "exec vault (+1 arg)"},
		{Exec{Command: []string{"gcloud", "auth", "print-identity-token"}}, "exec gcloud (+2 args)"},
		{Static("tok"), "static"},
	}
	for _, tt := range tests {
		if got := tt.src.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestKubernetesDefaultPath(t *testing.T) {
	// The test machine is no pod: the default path is absent and the error
	// names it, which proves an empty Path means the default.
	if _, err := os.Stat(DefaultKubernetesTokenPath); err == nil {
		t.Skip("running in a pod with the default token mounted")
	}
	_, err := KubernetesSA{}.SubjectToken(context.Background())
	assertErr(t, err, fs.ErrNotExist, "subject: kubernetes_sa /var/run/secrets/tokens/oauth2/token: no such file or directory")
}
