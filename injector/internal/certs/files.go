package certs

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Files serves tls.crt and tls.key from Dir (a mounted cert-manager
// Secret). The pair is re-read when either file's modification time or
// size changes, checked at most every CheckEvery, so a renewed certificate
// is served without a restart.
type Files struct {
	Dir        string
	CheckEvery time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

// Load reads the pair once; an error names the files.
func (f *Files) Load() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reload(true)
}

// GetCertificate is tls.Config.GetCertificate.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Now().Sub(f.checked) >= f.CheckEvery {
		// A failed re-read keeps serving the previous pair (cert-manager
		// writes both files; a read may fall between them).
		if err := f.reload(false); err != nil && f.cert == nil {
			return nil, err
		}
	}
	return f.cert, nil
}

// Ready reports whether a certificate is loaded.
func (f *Files) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cert != nil
}

func (f *Files) reload(force bool) error {
	f.checked = f.Now()
	crt, key := filepath.Join(f.Dir, "tls.crt"), filepath.Join(f.Dir, "tls.key")
	stamp := ""
	for _, p := range []string{crt, key} {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("certs: %w (mount the cert-manager Secret's tls.crt and tls.key in %s)", err, f.Dir)
		}
		stamp += fmt.Sprintf("%d/%d;", st.ModTime().UnixNano(), st.Size())
	}
	if !force && stamp == f.stamp {
		return nil
	}
	pair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		return fmt.Errorf("certs: %s and %s: %w", crt, key, err)
	}
	f.cert, f.stamp = &pair, stamp
	return nil
}
