package subject

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
)

// funcSource is a Source from outside this package.
type funcSource func(context.Context) (string, error)

func (f funcSource) SubjectToken(ctx context.Context) (string, error) { return f(ctx) }
func (f funcSource) String() string                                   { return "custom" }

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	fresh := writeFile(t, dir, "fresh", freshJWT+"\n")
	expired := writeFile(t, dir, "expired", expiredJWT)
	opaque := writeFile(t, dir, "opaque", opaqueToken)
	missing := filepath.Join(dir, "missing")

	t.Run("fresh projected token", func(t *testing.T) {
		info, err := Inspect(context.Background(), &KubernetesSA{Path: fresh, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if info.Source != "kubernetes_sa "+fresh || info.Path != fresh || info.Size != len(freshJWT) || !info.JWT || info.DecodeError != nil {
			t.Errorf("Info = %+v", info)
		}
		if info.ModTime.IsZero() {
			t.Error("ModTime not set for a file source")
		}
		if info.Header != (jwt.Header{Alg: "RS256", Kid: "test", Typ: "JWT"}) {
			t.Errorf("Header = %+v", info.Header)
		}
		if info.Claims.Subject != "system:serviceaccount:ai:agent" || !info.Claims.ExpiresAt.Equal(testNow.Add(50*time.Minute)) {
			t.Errorf("Claims = %+v", info.Claims)
		}
		if got, want := info.Claims.RotationTime(), testNow.Add(-10*time.Minute+48*time.Minute); !got.Equal(want) {
			t.Errorf("RotationTime = %v, want %v", got, want)
		}
		assertInfoHasNoToken(t, info, freshJWT)
	})

	t.Run("expired token: Info and the ExpiredError", func(t *testing.T) {
		info, err := Inspect(context.Background(), File{Path: expired, Now: fixedNow})
		var ee *ExpiredError
		if !errors.As(err, &ee) {
			t.Fatalf("err = %v, want an *ExpiredError", err)
		}
		if !info.JWT || !info.Claims.ExpiresAt.Equal(ee.ExpiredAt) || info.Size != len(expiredJWT) {
			t.Errorf("Info = %+v", info)
		}
		assertInfoHasNoToken(t, info, expiredJWT)
	})

	t.Run("opaque token", func(t *testing.T) {
		info, err := Inspect(context.Background(), File{Path: opaque})
		if err != nil {
			t.Fatal(err)
		}
		if info.JWT || !errors.Is(info.DecodeError, jwt.ErrMalformed) || info.Size != len(opaqueToken) {
			t.Errorf("Info = %+v", info)
		}
		assertInfoHasNoToken(t, info, opaqueToken)
	})

	t.Run("read error", func(t *testing.T) {
		info, err := Inspect(context.Background(), KubernetesSA{Path: missing})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want not-exist", err)
		}
		if info.Source != "kubernetes_sa "+missing || info.Path != missing || info.Size != 0 || info.JWT || info.Claims.Raw != nil {
			t.Errorf("Info = %+v", info)
		}
	})

	t.Run("static expired token is not checked", func(t *testing.T) {
		info, err := Inspect(context.Background(), Static(expiredJWT))
		if err != nil {
			t.Fatal(err)
		}
		if !info.JWT || info.Path != "" || !info.ModTime.IsZero() {
			t.Errorf("Info = %+v", info)
		}
	})

	t.Run("source from another package", func(t *testing.T) {
		src := funcSource(func(context.Context) (string, error) { return freshJWT, nil })
		info, err := Inspect(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if info.Source != "custom" || !info.JWT || info.Claims.Issuer != "https://kubernetes.default.svc" {
			t.Errorf("Info = %+v", info)
		}
		failing := funcSource(func(context.Context) (string, error) { return "", ErrNoToken })
		if _, err := Inspect(context.Background(), failing); !errors.Is(err, ErrNoToken) {
			t.Errorf("err = %v, want ErrNoToken", err)
		}
	})
}

func assertInfoHasNoToken(t *testing.T, info Info, token string) {
	t.Helper()
	out := fmt.Sprintf("%+v %#v", info, info)
	if strings.Contains(out, token) || strings.Contains(out, testSignature) {
		t.Errorf("Info contains the token: %s", out)
	}
}
