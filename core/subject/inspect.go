package subject

import (
	"context"
	"os"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
)

// Info describes a subject token without containing it, for
// `fedtoken doctor` and `inspect`.
type Info struct {
	// Source is the source's String().
	Source string
	// Path is the file the token was read from (kubernetes_sa, file);
	// empty for other sources.
	Path string
	// ModTime is when that file was last written (for a projected
	// token, when the kubelet last rotated it); zero for other sources.
	ModTime time.Time
	// Size is the token's length in bytes, after trimming.
	Size int
	// JWT reports whether the token decoded as a JWT. The signature is
	// NOT verified.
	JWT bool
	// Header and Claims are the decoded JWT; zero when JWT is false.
	Header jwt.Header
	Claims jwt.Claims
	// DecodeError says why the token is not a JWT (an opaque token);
	// nil when JWT is true.
	DecodeError error
}

// Inspect reads src once and describes its token. When the token is an
// expired JWT, Inspect returns the filled Info together with the
// *ExpiredError, so the claims can still be shown. Other read errors
// come with an Info holding only Source and Path.
//
// Sources from other packages are read through SubjectToken, so their
// own checks apply.
func Inspect(ctx context.Context, src Source) (Info, error) {
	info := Info{Source: src.String()}
	switch s := src.(type) {
	case KubernetesSA:
		info.Path = s.path()
	case *KubernetesSA:
		info.Path = s.path()
	case File:
		info.Path = s.Path
	case *File:
		info.Path = s.Path
	}

	var tok string
	var err error
	r, ours := src.(reader)
	if ours {
		tok, err = r.read(ctx)
	} else {
		tok, err = src.SubjectToken(ctx)
	}
	if err != nil {
		return info, err
	}
	info.Size = len(tok)
	if info.Path != "" {
		if fi, serr := os.Stat(info.Path); serr == nil {
			info.ModTime = fi.ModTime()
		}
	}
	if info.Header, info.Claims, info.DecodeError = jwt.Decode(tok); info.DecodeError == nil {
		info.JWT = true
	}
	if ours {
		return info, r.expiry().check(tok)
	}
	return info, nil
}
