package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/subject"
)

// identityVersion changes when the meaning of an identity digest changes.
const identityVersion = "fedtoken-identity/v1"

// identity returns the cache.WithIdentity function of a provider whose
// tokens are earned by presenting subject (and, for token exchange,
// actor): a digest of the iss, sub and aud claims of each, never the
// tokens. An opaque (non-JWT) token yields "": it cannot be bound, so
// nothing stored is used. A source that cannot be read is an error.
func identity(subj, actor subject.Source) func(context.Context) (string, error) {
	if subj == nil {
		return nil
	}
	return func(ctx context.Context) (string, error) {
		parts := []string{identityVersion}
		for _, src := range []subject.Source{subj, actor} {
			if src == nil {
				continue
			}
			tok, err := subject.Read(ctx, src)
			if err != nil {
				return "", err
			}
			_, claims, err := jwt.Decode(tok)
			if err != nil || claims.Issuer == "" || claims.Subject == "" {
				return "", nil // opaque: cannot be bound
			}
			aud := slices.Clone(claims.Audience)
			slices.Sort(aud)
			parts = append(parts, claims.Issuer, claims.Subject, strings.Join(aud, "\x00"))
		}
		h := sha256.New()
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
}
