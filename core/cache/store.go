package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"golang.org/x/oauth2"
)

// Store persists tokens between processes or runs. Implementations must be
// safe for concurrent use.
type Store interface {
	// Load returns the token saved under key, or (nil, nil) when there is
	// none or it cannot be used (corrupt, foreign): a miss, not an error.
	Load(ctx context.Context, key string) (*oauth2.Token, error)
	// Save replaces the token under key.
	Save(ctx context.Context, key string, tok *oauth2.Token) error
	// Delete removes the token under key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Locker is implemented by stores that can serialise acquisitions of one
// key, across processes for FileStore. Lock blocks until the lock is held
// or ctx is done; unlock releases it and may be called more than once.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Key derives a cache key from everything that changes the token: issuer,
// client ID, grant, audiences, scopes, subject source and so on. Each part
// is length-prefixed before hashing, so ("ab", "c") and ("a", "bc") differ.
// The result is 64 lowercase hex characters (SHA-256), safe as a file name
// and free of secrets; never pass a secret itself as a part.
func Key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
